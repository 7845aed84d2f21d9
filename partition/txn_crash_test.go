package partition_test

import (
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

// TestTxnCrashAtEveryStep: a history of interleaved transactions (commits and
// aborts) and plain batches, with segments rolling, crashes (every crash mode)
// after every step and in the middle of every roll: on each crashed copy Open
// recovers a prefix of the history whose last stable offset, read_committed
// records and aborted-transaction index are those of that prefix.
func TestTxnCrashAtEveryStep(t *testing.T) {
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.TearZeros, vfs.KeepPrefix} {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			var crashes []*vfs.CrashableFS
			opts := partition.Options{SegmentBytes: 600, Hooks: partition.Hooks{OnRoll: func(partition.RollEvent) {
				crashes = append(crashes, fsys.Crash(mode, int64(len(crashes))))
			}}}
			p := openDir(t, fsys, leaderDir, opts)
			rng := rand.New(rand.NewPCG(14, uint64(mode)))
			var ops []txnOp
			sequence := map[int64]int32{}
			open := map[int64]bool{}
			for range 60 {
				producer := int64(rng.IntN(3))
				op := txnOp{producer: producer, base: p.WrittenOffset()}
				switch r := rng.IntN(10); {
				case r < 2:
					op.producer, op.n = -1, 1+rng.IntN(3)
					appendBatches(t, p, op.n)
				case r < 6 || !open[producer]:
					op.n = 1 + rng.IntN(3)
					_, err := appendTransactional(p, producer, 0, sequence[producer], op.n)
					require.NoError(t, err)
					sequence[producer] += int32(op.n)
					open[producer] = true
				default:
					op.marker, op.abort, op.n = true, rng.IntN(2) == 0, 1
					typ := partition.MarkerCommit
					if op.abort {
						typ = partition.MarkerAbort
					}
					endTxn(t, p, producer, 0, typ)
					open[producer] = false
				}
				ops = append(ops, op)
				crashes = append(crashes, fsys.Crash(mode, int64(len(crashes))))
			}
			end := p.WrittenOffset()
			lastStable, committed, aborted := txnExpectation(ops, end)
			require.Equal(t, lastStable, p.LastStableOffset())
			require.Equal(t, committed, readAllAt(t, p, partition.ReadCommitted, 0))
			require.Len(t, p.AbortedTxns(0, end), aborted)
			require.Positive(t, aborted, "the history needs aborted transactions")
			require.Greater(t, len(crashes), len(ops), "the history needs rolls")
			require.NoError(t, p.Close())

			for i, crashed := range crashes {
				q, err := partition.Open(leaderDir, &partition.Options{SegmentBytes: 600, FS: crashed})
				require.NoError(t, err, "crash %d", i)
				end := q.WrittenOffset()
				require.True(t, end == 0 || slices.ContainsFunc(ops, func(op txnOp) bool { return op.base+int64(op.n) == end }), "crash %d: end %d is not between two steps", i, end)
				lastStable, committed, aborted := txnExpectation(ops, end)
				require.Equal(t, lastStable, q.LastStableOffset(), "crash %d", i)
				require.Equal(t, committed, readAllAt(t, q, partition.ReadCommitted, 0), "crash %d", i)
				require.Len(t, q.AbortedTxns(0, end), aborted, "crash %d", i)
				require.NoError(t, q.Close())
			}
		})
	}
}
