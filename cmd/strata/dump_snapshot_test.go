package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/partition"
)

// dump prints a producer snapshot one line per producer, as kafka-dump-log does,
// and reports a damaged one as corrupt.
func TestDumpIdempotentProducerSnapshot(t *testing.T) {
	dir := t.TempDir()
	p, err := partition.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	records := []partition.Record{{Timestamp: 1_700_000_000_000, Value: []byte("a")}, {Timestamp: 1_700_000_000_001, Value: []byte("b")}}
	for i, id := range []int64{9, 7} {
		if _, err := p.Append(ctx, records[:1]); err != nil { // a plain batch: no producer
			t.Fatal(err)
		}
		if _, err := p.AppendWith(ctx, records, &partition.AppendOptions{Producer: &partition.Producer{ID: id, Epoch: int16(i), BaseSequence: 0}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil { // Close writes the snapshot at the log end, 6
		t.Fatal(err)
	}
	path := filepath.Join(dir, "00000000000000000006.snapshot")
	out := ok(t, dir, "", "dump", path)
	want := "producerId: 7 producerEpoch: 1 coordinatorEpoch: -1 currentTxnFirstOffset: None lastTimestamp: 1700000000001 firstSequence: 0 lastSequence: 1 lastOffset: 5 offsetDelta: 1\n" +
		"producerId: 9 producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: None lastTimestamp: 1700000000001 firstSequence: 0 lastSequence: 1 lastOffset: 2 offsetDelta: 1\n"
	if out != want {
		t.Fatalf("dump of the snapshot:\n%s\nwant:\n%s", out, want)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1 // the last entry's byte: the CRC-32C no longer matches
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := strata(t, dir, "", "dump", path)
	if r.code != 1 || !strings.Contains(r.stderr, "corrupt") {
		t.Fatalf("dump of a damaged snapshot: exit %d, stderr %q", r.code, r.stderr)
	}
}
