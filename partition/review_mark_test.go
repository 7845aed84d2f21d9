package partition_test

// Review of the segment mark (Options.RecoveryPointSegment): strata's own states
// must never make it a false alarm.

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// markedCrash returns a crashed image of a partition whose every append was
// fsynced, the point and mark a store would have recorded (naming the newest
// segment), and the newest segment's base.
func markedCrash(t *testing.T) (*vfs.CrashableFS, int64, partition.SegmentMark) {
	t.Helper()
	fsys := vfs.NewCrashable()
	p := open(t, fsys, damageOptions())
	appendN(t, p, 50, 3)
	point, mark, marked := p.DurablePoint()
	require.True(t, marked)
	bases := segmentBases(t, fsys)
	require.Equal(t, bases[len(bases)-1], mark.Base, "the mark names the newest segment")
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	return crashed, point, mark
}

// flipFirstBatch flips a byte inside the records of the first batch of the segment
// at base: its CRC fails (damage below the recovery point).
func flipFirstBatch(t *testing.T, fsys vfs.FS, base int64) {
	t.Helper()
	path := segment.LogPath(partitionDir, base)
	data, err := vfs.ReadFileLimit(fsys, path, 1<<20)
	require.NoError(t, err)
	data[segment.BatchHeaderSize+2] ^= 0x40
	require.NoError(t, vfs.WriteFileAtomic(fsys, path, data))
}

// A bit flipped in the first batch of the newest segment, below the recovery point
// a store recorded with its mark: Repair cuts that segment and covers its offsets
// with an empty batch, which is now the newest segment's first batch. The repair's
// own Open (with the same options) must not take that for a replaced segment, nor
// must a later Open, Scrub or Repair with the store's (unchanged) line.
func TestReviewMarkRepairOfNewestFirstBatch(t *testing.T) {
	crashed, point, mark := markedCrash(t)
	image := crashed.Crash(vfs.DropUnsynced, 0)
	flipFirstBatch(t, image, mark.Base)
	opts := damageOptions()
	opts.FS = image
	opts.RecoveryPoint = point
	opts.RecoveryPointSegment = &mark
	_, err := partition.Open(partitionDir, &opts)
	require.ErrorIs(t, err, errs.ErrCorrupt, "damage below the recovery point")
	report, err := partition.Repair(partitionDir, &opts, &partition.RepairOptions{KeepDir: "/keep"})
	require.NoError(t, err, "%+v", report)
	require.Equal(t, []partition.OffsetRange{{From: mark.Base, To: point}}, report.Lost)
	scrub, err := partition.Scrub(partitionDir, &opts)
	require.NoError(t, err)
	require.Empty(t, scrub.Problems)
	q, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	require.Equal(t, point, q.EndOffset())
	require.NoError(t, q.Close())
}
