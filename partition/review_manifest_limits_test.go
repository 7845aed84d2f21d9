package partition_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestReviewManifestMovedBaseOffsetInLargeCleanedSegment: the change closes the
// sweep's finding "compacted: a cleaned batch's baseOffset moved into a gap", but
// Open checks a sealed segment's digest only when it reads it whole: in a cleaned
// segment with index entries (any segment larger than IndexIntervalBytes, 4 KiB by
// default; the sweep's compacted topic has 1 KiB segments, never indexed), a batch
// between the first and the one at the last index entry whose baseOffset moved into
// a gap compaction left still opens, and its records are read at the wrong offsets
// until Verify runs. This records the limit (it passes): FORMAT.md's "near twin
// between Verifies" covers it, the sweep's "fixed since" note overstates it.
func TestReviewManifestMovedBaseOffsetInLargeCleanedSegment(t *testing.T) {
	fsys := vfs.NewMem()
	p := compactCrashSetup(t, fsys)
	before := map[int64]string{}
	_, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	for _, rec := range readRecords(t, p) {
		before[rec.Offset] = string(rec.Value)
	}
	require.NoError(t, p.Close())

	// A cleaned sealed segment with a gap before one of its middle batches, and an
	// index entry after that batch.
	for _, base := range diskSegmentBases(t, fsys) {
		path := segment.LogPath(partitionDir, base)
		data := diskRead(t, fsys, path)
		type batch struct {
			pos int64
			h   segment.BatchHeader
		}
		var batches []batch
		for pos := int64(0); pos < int64(len(data)); {
			h, err := segment.ParseBatchHeader(data[pos:], 1<<20)
			require.NoError(t, err)
			batches = append(batches, batch{pos, h})
			pos += int64(h.Size())
		}
		for i := 1; i+2 < len(batches); i++ {
			prev, b := batches[i-1], batches[i]
			if b.h.BaseOffset <= prev.h.LastOffset()+1 || b.h.RecordCount == 0 {
				continue
			}
			// Move the batch down into the gap before it: offsets still rise.
			moved := make([]byte, 8)
			binary.BigEndian.PutUint64(moved, uint64(prev.h.LastOffset()+1))
			diskWriteAt(t, fsys, path, moved, b.pos)
			q, err := openAt(fsys, compactCrashOptions())
			require.NoError(t, err, "Open does not see it")
			wrong := 0
			for _, rec := range readRecords(t, q) {
				if v, ok := before[rec.Offset]; !ok || v != string(rec.Value) {
					wrong++
				}
			}
			require.Positive(t, wrong, "records are served at other offsets")
			err = q.Verify(context.Background())
			require.ErrorIs(t, err, errs.ErrCorrupt, "Verify does")
			require.NoError(t, q.Close())
			t.Logf("segment %d: batch %d of %d moved from %d to %d: opens, %d records at wrong offsets, Verify: %v", base, i, len(batches), b.h.BaseOffset, prev.h.LastOffset()+1, wrong, err)
			return
		}
	}
	t.Fatal("no cleaned segment with a gap before a middle batch")
}
