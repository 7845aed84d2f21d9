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
	entry := []byte(`"name": "old",
      "partitions": 1,
      "partitioner": "murmur2",
`)
	if !bytes.Contains(body, entry) {
		t.Fatalf("topics.json:\n%s", body)
	}
	body = bytes.Replace(body, entry, []byte(`"name": "old",
      "partitions": 1,
`), 1)
	if err := os.WriteFile(path, crcline.Append(body), 0o644); err != nil {
		t.Fatal(err)
	}

	if got := ok(t, dir, "", "topics", "list"); got != "old\norders\n" {
		t.Fatalf("topics list: %q", got)
	}
	for topic, want := range map[string]string{"orders": "murmur2", "old": "xxhash", "__consumer_offsets": "-"} {
		got := lines(ok(t, dir, "", "topics", "describe", topic))[0]
		if !strings.HasPrefix(got, "Topic: "+topic+"\tTopicId: -\t") || !strings.HasSuffix(got, "\tPartitioner: "+want) {
			t.Errorf("describe %s: %q, want it to end with Partitioner: %s", topic, got, want)
		}
	}
	all := ok(t, dir, "", "topics", "describe")
	if n := strings.Count(all, "\tPartitioner: "); n != 2 {
		t.Errorf("describe of every topic: %d topic lines, want 2 (internal topics excepted):\n%s", n, all)
	}
}
