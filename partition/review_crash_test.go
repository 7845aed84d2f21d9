package partition_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTruncateToCrashAtEveryStep fails each filesystem call of a TruncateTo across
// segments in turn, then crashes: every state left must open (the recovery point comes
// down before any file changes, later segments go newest first and durably before the
// kept one is cut), with the records below the truncation point intact and the log
// ending at the truncation point or, if the truncation did not finish, at a segment
// boundary above it. Found in review: the checkpoint was lowered last, and a crash
// before it (or before the directory fsync) left a partition Open refused.
func TestTruncateToCrashAtEveryStep(t *testing.T) {
	opts := partition.Options{SegmentBytes: 4 << 10}
	run := func(n int64) (calls int64, truncated bool, after vfs.FS) {
		fsys := vfs.NewCrashable()
		var count atomic.Int64
		var armed atomic.Bool
		inject := func(op vfs.Op, path string) *vfs.Fault {
			if armed.Load() && count.Add(1) == n {
				return &vfs.Fault{Err: fmt.Errorf("injected at call %d", n)}
			}
			return nil
		}
		p := open(t, vfs.NewFaulty(fsys, inject), opts)
		appendN(t, p, 1000, 5)
		require.NoError(t, p.Sync(t.Context()))
		armed.Store(true)
		_, err := p.TruncateTo(100)
		armed.Store(false)
		calls = count.Load()
		after = fsys.Crash(vfs.DropUnsynced, n)
		_ = p.Close()
		return calls, err == nil, after
	}
	total, ok, _ := run(-1)
	require.True(t, ok)
	require.Positive(t, total)
	for n := int64(1); n <= total; n++ {
		_, truncated, after := run(n)
		o := opts
		o.FS = after
		q, err := partition.Open(partitionDir, &o)
		require.NoError(t, err, "call %d of %d failed, then a crash: the partition must open", n, total)
		end := q.EndOffset()
		if truncated {
			require.Equal(t, int64(100), end, "call %d", n)
		} else {
			require.GreaterOrEqual(t, end, int64(100), "call %d: records below the truncation point lost", n)
		}
		require.Equal(t, end, readAll(t, q, 0), "call %d", n)
		require.NoError(t, q.Close())
	}
}
