package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/internal/crcline"
)

// TestTopicsDescribeShowsThePartitioner: describe ends the topic's line with its
// key partitioner: murmur2 for a topic created now, xxhash for one whose
// topics.json entry predates it, - for the internal offsets topic; topics list
// prints the names alone, internal topics excepted.
func TestTopicsDescribeShowsThePartitioner(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders", "--partitions", "2")
	ok(t, dir, "", "topics", "create", "old")
	ok(t, dir, "a\n", "produce", "orders")
	ok(t, dir, "", "consume", "orders", "--from-beginning", "--group", "g")

	// "old" as a topic created before strata partitioned keys as Kafka does.
	path := filepath.Join(dir, "topics.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := crcline.Split(path, data)
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.Index(body, []byte(`"name": "old",`))
	partitioner := []byte(`      "partitioner": "murmur2",
`)
	at := bytes.Index(body[max(old, 0):], partitioner)
	if old < 0 || at < 0 {
		t.Fatalf("topics.json:\n%s", body)
	}
	at += old
	body = append(body[:at:at], body[at+len(partitioner):]...)
	if err := os.WriteFile(path, crcline.Append(body), 0o644); err != nil {
		t.Fatal(err)
	}

	if got := ok(t, dir, "", "topics", "list"); got != "old\norders\n" {
		t.Fatalf("topics list: %q", got)
	}
	for topic, want := range map[string]string{"orders": "murmur2", "old": "xxhash", "__consumer_offsets": "-"} {
		got := maskTopicIDs(t, lines(ok(t, dir, "", "topics", "describe", topic)))[0]
		if !strings.HasPrefix(got, "Topic: "+topic+"\tTopicId: ID\t") || !strings.HasSuffix(got, "\tPartitioner: "+want) {
			t.Errorf("describe %s: %q, want it to end with Partitioner: %s", topic, got, want)
		}
	}
	all := ok(t, dir, "", "topics", "describe")
	if n := strings.Count(all, "\tPartitioner: "); n != 2 {
		t.Errorf("describe of every topic: %d topic lines, want 2 (internal topics excepted):\n%s", n, all)
	}
}
