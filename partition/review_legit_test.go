package partition_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestReviewLegitStatesOpen: states strata itself makes (compaction with grouped
// segments, tombstones and emptied last batches; TruncateTo at every offset, segment
// boundaries and compacted ranges included; appends after it) reopen cleanly and
// after a crash, read to the end and Verify. (Passes: recorded as checked.)
func TestReviewLegitStatesOpen(t *testing.T) {
	build := func(t *testing.T) (*vfs.CrashableFS, partition.Options, *partition.Partition) {
		clock := newTestClock()
		fsys := vfs.NewCrashable()
		opts := compactOptions(fsys, clock)
		opts.SegmentBytes = 400
		opts.DeleteRetention = time.Millisecond
		p, err := partition.Open(partitionDir, &opts)
		require.NoError(t, err)
		ts := clock.Millis(0)
		for i := range 40 {
			k := fmt.Sprint(i % 4)
			v := fmt.Sprint(i)
			if i%9 == 0 {
				v = "<nil>"
			}
			appendKVs(t, p, ts, kv{k, v})
		}
		forceCompact(t, p)
		clock.Advance(time.Hour)
		forceCompact(t, p) // tombstones past their horizon go
		return fsys, opts, p
	}
	fsys, _, p := build(t)
	end := p.EndOffset()
	require.NoError(t, p.Close())
	_ = fsys
	for target := int64(0); target <= end; target++ {
		for _, crash := range []bool{false, true} {
			fsys, opts, p := build(t)
			got, err := p.TruncateTo(target)
			require.NoError(t, err)
			appendKVs(t, p, 1, kv{"z", "after"})
			require.NoError(t, p.Sync(t.Context()))
			var reopenOn vfs.FS = fsys
			if crash {
				reopenOn = fsys.Crash(vfs.DropUnsynced, target)
			}
			require.NoError(t, p.Close())
			opts.FS = reopenOn
			q, err := partition.Open(partitionDir, &opts)
			require.NoError(t, err, "target %d (end %d) crash %v", target, got, crash)
			require.NoError(t, q.Verify(t.Context()), "target %d crash %v", target, crash)
			readRecords(t, q)
			forceCompact(t, q)
			readRecords(t, q)
			require.NoError(t, q.Close())
			q, err = partition.Open(partitionDir, &opts)
			require.NoError(t, err, "after a second compaction: target %d crash %v", target, crash)
			readRecords(t, q)
			require.NoError(t, q.Close())
		}
	}
}
