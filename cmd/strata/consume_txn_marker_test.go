package main

import (
	"context"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
)

// A transaction's marker is the last offset of a partition (it ends every
// transactional log): consume --group, which prints every record, stops at the end
// all the same, and a second run with the committed offsets, which have nothing
// left to print, returns at once rather than wait for a record below the end.
func TestConsumeGroupTxnMarkerAtTheEnd(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	withPartition(t, dir, func(p *partition.Partition) {
		appendTxn(t, p, 1, "a1", "a2")
		endTxn(t, p, 1, partition.MarkerCommit) // at 2, end offset 3
	})
	for _, want := range []string{"a1\na2\n", ""} {
		// Bounded: the bug was a consume waiting forever.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		r := strataWith(ctx, t, nil, nil, "consume", "t", "--group", "g", "--from-beginning", "--dir", dir)
		waited := ctx.Err() != nil
		cancel()
		if waited || r.code != 0 || r.stdout != want {
			t.Fatalf("consume --group: waited until interrupted: %t, %+v, want stdout %q", waited, r, want)
		}
	}
}
