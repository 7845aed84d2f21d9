package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stratalog/strata/log"
)

// strataProducingWhilePolling runs the CLI with args, producing value to topic
// (through the store the command holds) the first time consume is about to poll.
func strataProducingWhilePolling(t *testing.T, topic, value string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	produced := false
	e := &cli{ctx: t.Context(), stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" },
		beforePoll: func(store *log.Store) {
			if produced {
				return
			}
			produced = true
			if err := store.Produce(context.Background(), &log.Record{Topic: topic, Value: []byte(value)}); err != nil {
				t.Error(err)
			}
		}}
	code := e.exitCode(e.dispatch(args))
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// TestConsumeWithoutAStartWaits: consume TOPIC starts at the end and waits for
// new records, as Kafka's console consumer does; a consume that reads history
// stops at the end offsets unless --follow.
func TestConsumeWithoutAStartWaits(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "old\n", "produce", "t")
	r := strataProducingWhilePolling(t, "t", "new", "consume", "t", "--max-messages", "1", "--print-offset", "--dir", dir)
	if r.code != 0 || r.stdout != "0:1\tnew\n" || r.stderr != "" {
		t.Fatalf("consume from the end: %+v", r)
	}
	// --from-beginning reads what was there when it started, and stops.
	r = strataProducingWhilePolling(t, "t", "newer", "consume", "t", "--from-beginning", "--dir", dir)
	if r.code != 0 || r.stdout != "old\nnew\n" {
		t.Fatalf("--from-beginning: %+v", r)
	}
	// ... unless --follow; --timeout-ms ends it once nothing comes.
	r = strataProducingWhilePolling(t, "t", "newest", "consume", "t", "--from-beginning", "--follow", "--timeout-ms", "100", "--dir", dir)
	if r.code != 0 || r.stdout != "old\nnew\nnewer\nnewest\n" {
		t.Fatalf("--from-beginning --follow --timeout-ms: %+v", r)
	}
	// A group with committed offsets reads history too, and stops.
	ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "3", "--execute")
	r = strataProducingWhilePolling(t, "t", "last", "consume", "t", "--group", "g", "--dir", dir)
	if r.code != 0 || r.stdout != "newest\n" {
		t.Fatalf("--group: %+v", r)
	}
	fails(t, dir, 2, "--timeout-ms -1: must not be negative", "consume", "t", "--timeout-ms", "-1")
}
