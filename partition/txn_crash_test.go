package partition_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// txnOp is one step of a transactional history: a batch (of a transaction or
// plain) or a marker, at its offsets.
type txnOp struct {
	producer int64 // -1: a plain batch
	marker   bool
	abort    bool
	base     int64
	n        int
}

// txnExpectation is what a log holding the ops below end must show: the last
// stable offset, the offsets a reader in read_committed returns, and the aborted
// transactions.
func txnExpectation(ops []txnOp, end int64) (lastStable int64, committed []int64, aborted int) {
	open := map[int64][]int64{} // producer → offsets of its open transaction
	var visible []int64
	for _, op := range ops {
		if op.base >= end {
			break
		}
		switch {
		case op.producer < 0:
			visible = append(visible, span(op.base, op.base+int64(op.n))...)
		case op.marker:
			if len(open[op.producer]) > 0 {
				if op.abort {
					aborted++
				} else {
					visible = append(visible, open[op.producer]...)
				}
			}
			delete(open, op.producer)
		default:
			open[op.producer] = append(open[op.producer], span(op.base, op.base+int64(op.n))...)
		}
	}
	lastStable = end
	for _, offsets := range open {
		lastStable = min(lastStable, offsets[0])
	}
	slices.Sort(visible)
	for _, o := range visible {
		if o < lastStable {
			committed = append(committed, o)
		}
	}
	return lastStable, committed, aborted
}

// TestTxnCrashAtEveryStep: random histories of interleaved transactions (commits
// and aborts), plain batches and truncations to an earlier step, with segments
// rolling, crashed (every crash mode) after every step and in the middle of every
// roll: on each crashed copy Open recovers a prefix of the history whose last
// stable offset, read_committed records and aborted-transaction index are those of
// that prefix. One seed per mode, 20 under STRATA_LONG=1; a failure names its seed.
func TestTxnCrashAtEveryStep(t *testing.T) {
	truncated := 0
	defer func() { require.Positive(t, truncated, "the histories need truncations") }()
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.TearZeros, vfs.KeepPrefix} {
		for seed := range uint64(seedCount(1, 20)) {
			t.Run(fmt.Sprintf("%v/seed=%d", mode, seed), func(t *testing.T) {
				truncated += txnCrashHistory(t, mode, seed)
			})
		}
	}
}

// txnCrashHistory runs one history of TestTxnCrashAtEveryStep and returns how many
// truncations it made.
func txnCrashHistory(t *testing.T, mode vfs.CrashMode, seed uint64) (truncations int) {
	fsys := vfs.NewCrashable()
	var ops []txnOp
	// Each crash, with the history as it stood then: the crashed copy holds a
	// prefix of it.
	var crashes []*vfs.CrashableFS
	var histories [][]txnOp
	crash := func() {
		crashes = append(crashes, fsys.Crash(mode, int64(len(crashes))))
		histories = append(histories, slices.Clone(ops))
	}
	opts := partition.Options{SegmentBytes: 600, Hooks: partition.Hooks{OnRoll: func(partition.RollEvent) { crash() }}}
	p := openDir(t, fsys, leaderDir, opts)
	rng := rand.New(rand.NewPCG(14+seed, uint64(mode)))
	for range 60 {
		producer := int64(rng.IntN(3))
		sequence, open := txnProducerState(ops, producer)
		op := txnOp{producer: producer, base: p.WrittenOffset()}
		switch r := rng.IntN(20); {
		case r == 0 && len(ops) > 0:
			// Truncate to the end of an earlier step.
			keep := rng.IntN(len(ops))
			truncations++
			end := ops[keep].base
			_, err := p.TruncateTo(end)
			require.NoError(t, err)
			ops = ops[:keep]
			crash()
			continue
		case r < 5:
			op.producer, op.n = -1, 1+rng.IntN(3)
			appendBatches(t, p, op.n)
		case r < 12 || !open:
			op.n = 1 + rng.IntN(3)
			_, err := appendTransactional(p, producer, 0, sequence, op.n)
			require.NoError(t, err)
		default:
			op.marker, op.abort, op.n = true, rng.IntN(2) == 0, 1
			typ := partition.MarkerCommit
			if op.abort {
				typ = partition.MarkerAbort
			}
			endTxn(t, p, producer, 0, typ)
		}
		ops = append(ops, op)
		crash()
	}
	end := p.WrittenOffset()
	lastStable, committed, aborted := txnExpectation(ops, end)
	require.Equal(t, lastStable, p.LastStableOffset())
	require.Equal(t, committed, readAllAt(t, p, partition.ReadCommitted, 0))
	require.Len(t, p.AbortedTxns(0, end), aborted)
	require.NoError(t, p.Close())

	for i, crashed := range crashes {
		history := histories[i]
		end := requireTxnHistoryPrefix(t, crashed, history, fmt.Sprintf("crash %d", i))
		if i%3 == 0 {
			// A second crash right after the recovery's Open, which rebuilt the
			// index of the tail: the log it recovered stays.
			again := crashed.Crash(mode, int64(i)+1000)
			require.Equal(t, end, requireTxnHistoryPrefix(t, again, history, fmt.Sprintf("crash %d, then a crash after recovery", i)))
		}
	}
	return truncations
}

// requireTxnHistoryPrefix opens the partition on fsys, checks that it holds a
// prefix of history with that prefix's last stable offset, read_committed records
// and aborted-transaction index, and returns its end. The partition is left open
// for the caller to crash its file system; it is closed at the end of the test.
func requireTxnHistoryPrefix(t *testing.T, fsys vfs.FS, history []txnOp, what string) int64 {
	t.Helper()
	q, err := partition.Open(leaderDir, &partition.Options{SegmentBytes: 600, FS: fsys})
	require.NoError(t, err, what)
	t.Cleanup(func() { q.Close() })
	end := q.WrittenOffset()
	require.True(t, end == 0 || slices.ContainsFunc(history, func(op txnOp) bool { return op.base+int64(op.n) == end }),
		"%s: end %d is not between two steps", what, end)
	lastStable, committed, aborted := txnExpectation(history, end)
	require.Equal(t, lastStable, q.LastStableOffset(), what)
	require.Equal(t, committed, readAllAt(t, q, partition.ReadCommitted, 0), what)
	require.Len(t, q.AbortedTxns(0, end), aborted, what)
	return end
}

// txnProducerState returns the next sequence of producer (epoch 0) and whether its
// transaction is open, after ops.
func txnProducerState(ops []txnOp, producer int64) (sequence int32, open bool) {
	for _, op := range ops {
		if op.producer != producer {
			continue
		}
		if op.marker {
			open = false
			continue
		}
		sequence += int32(op.n)
		open = true
	}
	return sequence, open
}
