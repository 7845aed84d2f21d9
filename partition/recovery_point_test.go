package partition_test

// Options.RecoveryPoint: a recovery point recorded outside the partition directory
// (a store's recovery-points.checkpoint). partition.checkpoint's own moves only at
// rolls, Open and Close, so after a power loss nothing in the directory says how
// far the newest segment was fsynced, and that segment cut exactly at a batch
// boundary reads as a shorter log. With the recorded point above the cut, it is a
// *CorruptError at Open, a problem for Scrub, and offsets Repair covers.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// cutNewestSegment returns an unclean damagedStore (60 records, every one fsynced
// before the power went) whose newest segment is cut at the start of the batch
// holding offset at, plus extra bytes of that batch (0: exactly at the boundary).
func cutNewestSegment(t *testing.T, at, extra int64) vfs.FS {
	t.Helper()
	probe, _ := damagedStore(t, false)
	p, err := openAt(probe, damageOptions())
	require.NoError(t, err)
	loc, err := p.Locate(at)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	fsys, bases := damagedStore(t, false)
	require.Equal(t, segment.LogPath(partitionDir, bases[len(bases)-1]), loc.Path, "offset %d is in the newest segment", at)
	f, err := fsys.OpenFile(loc.Path, os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(loc.Position+extra))
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	return fsys
}

// withRecoveryPoint returns damageOptions on fsys with Options.RecoveryPoint set.
func withRecoveryPoint(fsys vfs.FS, point int64) *partition.Options {
	opts := damageOptions()
	opts.FS, opts.RecoveryPoint = fsys, point
	return &opts
}

// TestRecoveryPointDetectsCutNewestSegment: after a power loss, the newest segment
// cut at a batch boundary below the recorded recovery point is a *CorruptError
// naming the missing offsets; without the record (or with one at or below the cut)
// it opens shorter, as it always did: nothing can tell the cut from an unsynced tail.
func TestRecoveryPointDetectsCutNewestSegment(t *testing.T) {
	fsys := cutNewestSegment(t, 57, 0) // offsets 57 to 59 gone
	_, err := partition.Open(partitionDir, withRecoveryPoint(fsys, 60))
	require.ErrorIs(t, err, errs.ErrCorrupt)
	var corrupt *errs.CorruptError
	require.True(t, errors.As(err, &corrupt))
	require.Contains(t, corrupt.Reason, "the log ends at offset 57, but every offset below 60 was fsynced")

	for _, point := range []int64{0, 30, 57} {
		fsys := cutNewestSegment(t, 57, 0)
		p, err := partition.Open(partitionDir, withRecoveryPoint(fsys, point))
		require.NoError(t, err, "recovery point %d", point)
		require.Equal(t, int64(57), p.EndOffset())
		require.Equal(t, max(point, p.RecoveryReport().RecoveryPoint), p.RecoveryReport().RecoveryPoint)
		require.NoError(t, p.Close())
	}
}

// TestRecoveryPointMakesATornTailCorruption: below the recorded point a batch cut in
// the middle was fsynced whole, so it is damage, not a torn write to cut.
func TestRecoveryPointMakesATornTailCorruption(t *testing.T) {
	fsys := cutNewestSegment(t, 57, 20)
	_, err := partition.Open(partitionDir, withRecoveryPoint(fsys, 60))
	require.ErrorIs(t, err, errs.ErrCorrupt)

	fsys = cutNewestSegment(t, 57, 20)
	p, err := partition.Open(partitionDir, withRecoveryPoint(fsys, 57))
	require.NoError(t, err)
	require.Len(t, p.RecoveryReport().Truncated, 1, "above the recorded point it is a torn tail")
	require.Equal(t, int64(57), p.EndOffset())
	require.NoError(t, p.Close())
}

// TestRecoveryPointIgnoredAfterCleanShutdown: a clean checkpoint records the end
// itself; a recorded point above it (a stale record) changes nothing.
func TestRecoveryPointIgnoredAfterCleanShutdown(t *testing.T) {
	fsys, _ := damagedStore(t, true)
	p, err := partition.Open(partitionDir, withRecoveryPoint(fsys, 1000))
	require.NoError(t, err)
	require.Equal(t, int64(60), p.EndOffset())
	require.True(t, p.RecoveryReport().CleanShutdown)
	require.NoError(t, p.Close())
}

// TestRecoveryPointScrubAndRepair: Scrub reports the missing tail only with the
// recorded point; Repair covers the missing offsets up to it with an empty batch, so
// the end offset never goes back below an offset that was acknowledged, and the
// repaired partition opens with the same recorded point.
func TestRecoveryPointScrubAndRepair(t *testing.T) {
	fsys := cutNewestSegment(t, 57, 0)
	report, err := partition.Scrub(partitionDir, withRecoveryPoint(fsys, 0))
	require.NoError(t, err)
	require.Empty(t, report.Problems, "without the recorded point the cut cannot be seen")

	report, err = partition.Scrub(partitionDir, withRecoveryPoint(fsys, 60))
	require.NoError(t, err)
	require.Len(t, report.Problems, 1)
	require.ErrorIs(t, report.Problems[0], errs.ErrCorrupt)
	require.Contains(t, report.Problems[0].Error(), "every offset below 60 was fsynced")

	repaired, err := partition.Repair(partitionDir, withRecoveryPoint(fsys, 60), nil)
	require.NoError(t, err)
	require.Equal(t, []partition.OffsetRange{{From: 57, To: 60}}, repaired.Lost)
	require.Equal(t, int64(60), repaired.EndOffset)

	p, err := partition.Open(partitionDir, withRecoveryPoint(fsys, 60))
	require.NoError(t, err)
	require.Equal(t, int64(60), p.EndOffset())
	r := p.NewReader(0, 0)
	for want := int64(0); want < 57; want++ {
		rec, err := r.TryNext()
		require.NoError(t, err)
		require.Equal(t, want, rec.Offset)
		require.Equal(t, value(want), rec.Value)
	}
	rec, err := r.TryNext()
	require.NoError(t, err)
	require.Nil(t, rec, "the empty batch over 57 to 59 holds no record")
	first, err := p.Append(context.Background(), []partition.Record{{Value: []byte("after the repair")}})
	require.NoError(t, err)
	require.Equal(t, int64(60), first, "no offset is given out twice")
	require.NoError(t, p.Close())

	report, err = partition.Scrub(partitionDir, withRecoveryPoint(fsys, 60))
	require.NoError(t, err)
	require.Empty(t, report.Problems)
}

// TestRecoveryPointWithoutCheckpoint: records were fsynced below the recorded point,
// so a partition directory without partition.checkpoint lost it (Open writes it
// before the first record), even if no segment holds a record any more.
func TestRecoveryPointWithoutCheckpoint(t *testing.T) {
	fsys := vfs.NewMem()
	p := open(t, fsys, damageOptions())
	require.NoError(t, p.Close())
	require.NoError(t, fsys.Remove(filepath.Join(partitionDir, partition.CheckpointFile)))

	_, err := partition.Open(partitionDir, withRecoveryPoint(fsys, 60))
	require.ErrorIs(t, err, errs.ErrCorrupt)
	report, err := partition.Scrub(partitionDir, withRecoveryPoint(fsys, 60))
	require.NoError(t, err)
	require.Len(t, report.Problems, 1)
	require.ErrorIs(t, report.Problems[0], errs.ErrCorrupt)

	repaired, err := partition.Repair(partitionDir, withRecoveryPoint(fsys, 60), nil)
	require.NoError(t, err)
	require.Equal(t, []partition.OffsetRange{{From: 0, To: 60}}, repaired.Lost)
	require.Equal(t, int64(60), repaired.EndOffset)
}

// TestDurableOffset: the offset below which every record is fsynced, what an owner
// records: at the end under SyncEveryAppend, behind it under SyncNone until a Sync.
func TestDurableOffset(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{})
	appendN(t, p, 10, 3)
	require.Equal(t, int64(10), p.DurableOffset())
	require.NoError(t, p.Close())

	p = open(t, vfs.NewMem(), partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	appendN(t, p, 10, 3)
	require.Equal(t, int64(0), p.DurableOffset())
	require.NoError(t, p.Sync(context.Background()))
	require.Equal(t, int64(10), p.DurableOffset())
	require.NoError(t, p.Close())

	_, err := partition.Open(partitionDir, &partition.Options{FS: vfs.NewMem(), RecoveryPoint: -1})
	require.ErrorIs(t, err, errs.ErrInvalidArgument)
}
