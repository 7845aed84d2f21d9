package partition_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// The transactional fault sweep: a life of three transactional producers (batches,
// commits, aborts, rolls, retention, compaction, close, reopen) on a filesystem that
// fails its n-th call with EIO, for every n. Whatever fails, a reopen on the same
// files (a restart) and on their durable state (power loss) holds the acknowledged
// steps, perhaps with the one that failed, and its last stable offset, read_committed
// records and aborted-transaction index are those of that history.

// txnSweepLife runs the life on fsys, stopping at the first error, and returns the
// acknowledged steps and the one that failed, if any (attempted.n 0: none).
func txnSweepLife(fsys vfs.FS) (acked []txnOp, attempted txnOp, complete bool) {
	opts := sweepOptions(fsys)
	ctx := context.Background()
	now := opts.Now().UnixMilli()
	life := func(p *partition.Partition, round int) error {
		for i := range 15 {
			producer := int64(i % 3)
			sequence, open := txnProducerState(acked, producer)
			op := txnOp{producer: producer, base: p.WrittenOffset(), n: 1}
			var err error
			if open && i%2 == 0 {
				op.marker, op.abort = true, i%4 == 0
				typ := partition.MarkerCommit
				if op.abort {
					typ = partition.MarkerAbort
				}
				attempted = op
				op.base, err = p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: producer, Type: typ})
			} else {
				op.n = 1 + i%3
				records := make([]partition.Record, op.n)
				for j := range records {
					records[j] = partition.Record{Key: []byte(fmt.Sprintf("p%d-%d-%d-%d", producer, round, i, j)), Value: []byte("v"), Timestamp: now}
				}
				attempted = op
				op.base, err = p.AppendWith(ctx, records, &partition.AppendOptions{Producer: &partition.Producer{ID: producer, BaseSequence: sequence, Transactional: true}})
			}
			if err != nil {
				return err
			}
			acked, attempted = append(acked, op), txnOp{}
			if i%5 == 4 {
				if err := p.Roll(); err != nil {
					return err
				}
			}
		}
		if _, err := p.ApplyRetention(); err != nil {
			return err
		}
		_, err := p.ForceCompact(ctx)
		return err
	}
	for round := range 2 {
		p, err := partition.Open("/data/orders-0", &opts)
		if err != nil {
			return acked, attempted, false
		}
		err = life(p, round)
		if closeErr := p.Close(); err != nil || closeErr != nil {
			return acked, attempted, false
		}
	}
	return acked, attempted, true
}

// requireTxnSweepState opens the partition on fsys and checks it against acked and
// attempted (see the sweep).
func requireTxnSweepState(t *testing.T, fsys vfs.FS, acked []txnOp, attempted txnOp, what string) {
	t.Helper()
	opts := sweepOptions(fsys)
	p, err := partition.Open("/data/orders-0", &opts)
	require.NoError(t, err, "%s: reopen", what)
	defer p.Close()
	history := acked
	end, ackedEnd := p.WrittenOffset(), int64(0)
	if n := len(acked); n > 0 {
		ackedEnd = acked[n-1].base + int64(acked[n-1].n)
	}
	if attempted.n > 0 && end > ackedEnd {
		// The failed step's batch was written, and survived.
		history = append(append([]txnOp(nil), acked...), attempted)
		require.Equal(t, attempted.base+int64(attempted.n), end, "%s: the log ends after the failed step", what)
	} else {
		require.Equal(t, ackedEnd, end, "%s: the log ends after the acknowledged steps", what)
	}
	start := p.StartOffset()
	lastStable, committed, _ := txnExpectation(history, end)
	require.Equal(t, max(lastStable, start), p.LastStableOffset(), what)
	var want []int64
	for _, o := range committed {
		if o >= start {
			want = append(want, o)
		}
	}
	require.Equal(t, want, readAllAt(t, p, partition.ReadCommitted, start), what)
	var markers []int64
	for _, op := range history {
		if op.marker && op.abort && op.base >= start && op.base < end {
			markers = append(markers, op.base)
		}
	}
	var got []int64
	for _, a := range p.AbortedTxns(start, end) {
		got = append(got, a.LastOffset)
	}
	require.Subset(t, markers, got, "%s: every entry is of an ABORT marker", what)
	for _, m := range markers {
		if ended := txnEnded(history, m); ended {
			require.Contains(t, got, m, "%s: the ABORT marker at %d is indexed", what, m)
		}
	}
}

// txnEnded says whether the marker at offset ended a transaction in history.
func txnEnded(history []txnOp, offset int64) bool {
	for i, op := range history {
		if op.base == offset {
			_, open := txnProducerState(history[:i], op.producer)
			return open
		}
	}
	return false
}

func TestTxnFaultSweepEveryCall(t *testing.T) {
	var total atomic.Int64
	_, _, complete := txnSweepLife(vfs.NewFaulty(vfs.NewCrashable(), failCall(0, &total)))
	require.True(t, complete, "the life must complete without faults")
	calls := total.Load()
	t.Logf("a life makes %d filesystem calls", calls)
	step := int64(1)
	if testing.Short() {
		step = 7
	}
	for n := int64(1); n <= calls; n += step {
		mem := vfs.NewCrashable()
		var count atomic.Int64
		var acked []txnOp
		var attempted txnOp
		require.NotPanics(t, func() {
			acked, attempted, _ = txnSweepLife(vfs.NewFaulty(mem, failCall(n, &count)))
		}, "failing call %d", n)
		requireTxnSweepState(t, mem.Crash(vfs.DropUnsynced, n), acked, attempted, fmt.Sprintf("call %d failed, power lost", n))
		requireTxnSweepState(t, mem, acked, attempted, fmt.Sprintf("call %d failed, restart", n))
	}
}
