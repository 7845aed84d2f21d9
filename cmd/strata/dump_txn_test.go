package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/partition"
)

// writeTxnSegment writes, in a partition of its own, producer 7's committed
// transaction (0-1, COMMIT at 3), producer 9's aborted one (2, ABORT at 4) and
// producer 11's aborted one (5, ABORT at 6), and returns the partition directory.
func writeTxnSegment(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p, err := partition.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendTxn(t, p, 7, "a1", "a2")
	appendTxn(t, p, 9, "b1")
	endTxn(t, p, 7, partition.MarkerCommit)
	endTxn(t, p, 9, partition.MarkerAbort)
	appendTxn(t, p, 11, "c1")
	endTxn(t, p, 11, partition.MarkerAbort)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dump of a .log shows transactional batches with their producer, and control
// batches as such (isControl: true), their record decoded as kafka-dump-log
// decodes a transaction marker.
func TestDumpTxnControlBatches(t *testing.T) {
	dir := writeTxnSegment(t)
	out := ok(t, dir, "", "dump", segmentFile(dir, ".log"), "--print-data")
	var batches, records []string
	for _, line := range lines(out) {
		switch {
		case strings.HasPrefix(line, "baseOffset:"):
			batches = append(batches, line[:strings.Index(line, " position:")])
		case strings.HasPrefix(line, "| "):
			records = append(records, line[strings.Index(line, " keySize:"):])
		}
	}
	wantBatches := []string{
		"baseOffset: 0 lastOffset: 1 count: 2 baseSequence: 0 lastSequence: 1 producerId: 7 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: false",
		"baseOffset: 2 lastOffset: 2 count: 1 baseSequence: 0 lastSequence: 0 producerId: 9 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: false",
		"baseOffset: 3 lastOffset: 3 count: 1 baseSequence: -1 lastSequence: -1 producerId: 7 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: true",
		"baseOffset: 4 lastOffset: 4 count: 1 baseSequence: -1 lastSequence: -1 producerId: 9 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: true",
		"baseOffset: 5 lastOffset: 5 count: 1 baseSequence: 0 lastSequence: 0 producerId: 11 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: false",
		"baseOffset: 6 lastOffset: 6 count: 1 baseSequence: -1 lastSequence: -1 producerId: 11 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: true",
	}
	wantRecords := []string{
		" keySize: -1 valueSize: 2 sequence: 0 headers: [] payload: a1",
		" keySize: -1 valueSize: 2 sequence: 1 headers: [] payload: a2",
		" keySize: -1 valueSize: 2 sequence: 0 headers: [] payload: b1",
		" keySize: 4 valueSize: 6 sequence: -1 headers: [] endTxnMarker: COMMIT coordinatorEpoch: 5",
		" keySize: 4 valueSize: 6 sequence: -1 headers: [] endTxnMarker: ABORT coordinatorEpoch: 5",
		" keySize: -1 valueSize: 2 sequence: 0 headers: [] payload: c1",
		" keySize: 4 valueSize: 6 sequence: -1 headers: [] endTxnMarker: ABORT coordinatorEpoch: 5",
	}
	if strings.Join(batches, "\n") != strings.Join(wantBatches, "\n") || strings.Join(records, "\n") != strings.Join(wantRecords, "\n") {
		t.Fatalf("dump:\n%s\nwant batches:\n%s\nand records ending:\n%s", out, strings.Join(wantBatches, "\n"), strings.Join(wantRecords, "\n"))
	}
}

// dump of a .txnindex prints each aborted transaction as kafka-dump-log does, and
// reports entries Open would refuse, and a torn last one.
func TestDumpTxnIndex(t *testing.T) {
	dir := writeTxnSegment(t)
	path := segmentFile(dir, ".txnindex")
	out := ok(t, dir, "", "dump", path)
	want := "Dumping " + path + "\n" +
		"version: 0 producerId: 9 firstOffset: 2 lastOffset: 4 lastStableOffset: 5\n" +
		"version: 0 producerId: 11 firstOffset: 5 lastOffset: 6 lastStableOffset: 7\n"
	if out != want {
		t.Fatalf("dump of the .txnindex:\n%s\nwant:\n%s", out, want)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := append(append([]byte(nil), b[34:]...), b[:34]...) // markers out of order
	damaged = append(damaged, 0, 0, 0)                           // and a torn entry
	if err := os.WriteFile(path, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	r := strata(t, dir, "", "dump", path)
	if r.code != 1 || !strings.Contains(r.stdout, "Invalid: entry 1: marker offset 4 not above the previous entry's 6") ||
		!strings.Contains(r.stdout, "Invalid: 3 trailing bytes, not a whole 34-byte entry") || !strings.Contains(r.stderr, "2 index problems") {
		t.Fatalf("dump of a damaged .txnindex: %+v", r)
	}

	// A .txnindex named otherwise, or of another kind, is refused.
	other := filepath.Join(dir, "aborted.txnindex")
	if err := os.WriteFile(other, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fails(t, dir, 1, "must be named by its segment's base offset", "dump", other)
}

// partition.DecodeTxnMarker refuses what is not a marker: dump prints the record
// with the reason.
func TestDumpTxnControlRecordThatDoesNotDecode(t *testing.T) {
	for _, c := range []struct {
		key, value []byte
		want       string
	}{
		{[]byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0, 3}, " endTxnMarker: COMMIT coordinatorEpoch: 3"},
		{[]byte{0, 0, 0, 5}, nil, " controlType: UNKNOWN(5)"},
		{[]byte{0, 1, 0, 1}, []byte{0, 0, 0, 0, 0, 3}, "decodeError: control record key version 1"},
		{[]byte{0, 0}, nil, "decodeError: control record key of 2 bytes"},
		{[]byte{0, 0, 0, 0}, []byte{0, 0, 0}, "decodeError: transaction marker value of 3 bytes"},
	} {
		if got := controlRecord(c.key, c.value); !strings.Contains(got, c.want) {
			t.Errorf("controlRecord(%v, %v) = %q, want it to contain %q", c.key, c.value, got, c.want)
		}
	}
}
