package main

import (
	"context"
	"testing"

	"github.com/stratalog/strata/partition"
)

// writeTransactions makes a store with topic t whose partition holds
//
//	0 a1, 1 a2   producer 1, committed (marker at 3)
//	2 b1         producer 2, aborted (marker at 4)
//	5 c1         producer 3, open
//	6 p1         a plain record
//
// and returns its directory.
func writeTransactions(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	withPartition(t, dir, func(p *partition.Partition) {
		appendTxn(t, p, 1, "a1", "a2")
		appendTxn(t, p, 2, "b1")
		endTxn(t, p, 1, partition.MarkerCommit)
		endTxn(t, p, 2, partition.MarkerAbort)
		appendTxn(t, p, 3, "c1")
		if _, err := p.Append(context.Background(), []partition.Record{{Value: []byte("p1")}}); err != nil {
			t.Fatal(err)
		}
	})
	return dir
}

// consume --isolation-level read_committed prints only committed records and
// stops at the last stable offset, where read_uncommitted (the default) prints
// every record; markers are printed by neither. With --group, the committed
// offsets continue from there once the open transaction commits, and a log that
// ends with a marker or an aborted transaction does not keep consume waiting.
func TestConsumeReadCommitted(t *testing.T) {
	dir := writeTransactions(t)
	want := func(args []string, out string) {
		t.Helper()
		if got := ok(t, dir, "", append([]string{"consume", "t", "--print-offset"}, args...)...); got != out {
			t.Fatalf("consume %q:\n%s\nwant:\n%s", args, got, out)
		}
	}
	want([]string{"--from-beginning"}, "0:0\ta1\n0:1\ta2\n0:2\tb1\n0:5\tc1\n0:6\tp1\n")
	want([]string{"--from-beginning", "--isolation-level", "read_uncommitted"}, "0:0\ta1\n0:1\ta2\n0:2\tb1\n0:5\tc1\n0:6\tp1\n")
	want([]string{"--from-beginning", "--isolation-level", "read_committed"}, "0:0\ta1\n0:1\ta2\n")
	want([]string{"--offset", "2", "--partition", "0", "--isolation-level", "read_committed"}, "")
	want([]string{"--group", "g", "--from-beginning", "--isolation-level", "read_committed"}, "0:0\ta1\n0:1\ta2\n")
	want([]string{"--group", "g", "--isolation-level", "read_committed"}, "")

	withPartition(t, dir, func(p *partition.Partition) {
		endTxn(t, p, 3, partition.MarkerCommit) // at 7: the log ends with a marker
	})
	want([]string{"--from-beginning", "--isolation-level", "read_committed"}, "0:0\ta1\n0:1\ta2\n0:5\tc1\n0:6\tp1\n")
	want([]string{"--group", "g", "--isolation-level", "read_committed"}, "0:5\tc1\n0:6\tp1\n")
	want([]string{"--group", "g", "--isolation-level", "read_committed"}, "")
	want([]string{"--group", "u", "--from-beginning"}, "0:0\ta1\n0:1\ta2\n0:2\tb1\n0:5\tc1\n0:6\tp1\n")
	want([]string{"--group", "u"}, "")

	withPartition(t, dir, func(p *partition.Partition) {
		appendTxn(t, p, 4, "d1")
		endTxn(t, p, 4, partition.MarkerAbort) // the log ends with an aborted transaction
	})
	want([]string{"--group", "g", "--isolation-level", "read_committed"}, "")
	want([]string{"--group", "u"}, "0:8\td1\n")
	want([]string{"--offset", "7", "--partition", "0", "--isolation-level", "read_committed"}, "")
}

// --isolation-level takes Kafka's two names only.
func TestConsumeReadCommittedFlagErrors(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	fails(t, dir, 2, `--isolation-level "read-committed": want read_committed or read_uncommitted`, "consume", "t", "--isolation-level", "read-committed")
	fails(t, dir, 2, `--isolation-level "": want read_committed or read_uncommitted`, "consume", "t", "--isolation-level", "")
}
