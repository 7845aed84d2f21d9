package log_test

// Review of the segment marks of recovery-points.checkpoint: no false alarm from
// strata's own states.

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// A flipped bit in the first batch of a partition's newest segment, after the store
// recorded that segment's mark: RepairPartition cuts the segment and covers its
// offsets with an empty batch, and the repaired partition must open (the mark
// describes the log before the repair, not after).
func TestReviewMarkRepairPartitionOfNewestFirstBatch(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, &log.Options{RecoveryPointInterval: -1})
	defer s.Close()
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 1})
	produceFrom(t, s, "orders", 0, 0, 3)
	produceFrom(t, s, "orders", 0, 3, 2)
	ctx := testContext(t)
	require.NoError(t, s.Sync(ctx))
	marks, err := log.RecordedSegmentMarks(fsys, "/data")
	require.NoError(t, err)
	require.Contains(t, marks, "orders-0", "the store recorded the newest segment's mark")
	flipRecordByte(t, fsys, "/data/orders-0/"+segment.FileName(0, segment.LogSuffix), 0)

	report, err := s.RepairPartition(ctx, tp("orders", 0), nil)
	require.NoError(t, err, "%+v", report)
	require.Equal(t, []partition.OffsetRange{{From: 0, To: 5}}, report.Lost)
	require.Empty(t, s.OfflinePartitions())
	produceFrom(t, s, "orders", 0, 5, 1)
}

// A truncation that fails half way (an I/O error cutting the kept segment, after
// the later segments were removed) leaves the partition failed, its DurableOffset
// where it was before the truncation. The store lowered the partition's recorded
// point before truncating, and must keep it there: recording DurableOffset again
// (the next Store.Sync, or the background loop) puts the point back above the log
// left on disk, and the next Open after a crash reports the removed records as
// missing.
func TestReviewMarkFailedTruncationKeepsPointLowered(t *testing.T) {
	base := vfs.NewCrashable()
	var faults vfs.Switch
	fsys := vfs.NewFaulty(base, faults.Inject)
	s := openStore(t, fsys, &log.Options{RecoveryPointInterval: -1})
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 1, SegmentBytes: 200})
	for i := 0; i < 20; i += 2 {
		produceFrom(t, s, "orders", 0, i, 2)
	}
	ctx := testContext(t)
	require.NoError(t, s.Sync(ctx))
	d, err := s.DescribeTopic("orders")
	require.NoError(t, err)
	require.Greater(t, d.Partitions[0].Segments, 2)

	faults.Set(vfs.FailOp(vfs.OpTruncate, errors.New("injected")))
	_, err = log.TruncatePartition(s, tp("orders", 0), 5)
	require.Error(t, err)
	faults.Set(nil)
	_ = s.Sync(ctx) // the partition failed: its sync fails, the points are recorded
	points, err := log.RecordedRecoveryPoints(base, "/data")
	require.NoError(t, err)
	require.LessOrEqual(t, points["orders-0"], int64(5), "the recorded point went back above the truncation")

	image := base.Crash(vfs.DropUnsynced, 0)
	_ = s.Close()
	s = openStore(t, image, nil)
	defer s.Close()
	require.Empty(t, s.OfflinePartitions())
}

// The same after a power loss: the partition opens offline (the damage lies below
// the recorded point), RepairPartition repairs it with the recorded point and mark,
// and it is back online; so after the next crash.
func TestReviewMarkRepairOfflineNewestFirstBatch(t *testing.T) {
	base := vfs.NewCrashable()
	s := openStore(t, base, &log.Options{RecoveryPointInterval: -1})
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 1})
	produceFrom(t, s, "orders", 0, 0, 3)
	produceFrom(t, s, "orders", 0, 3, 2)
	ctx := testContext(t)
	require.NoError(t, s.Sync(ctx))
	image := base.Crash(vfs.DropUnsynced, 0)
	_ = s.Close()
	flipRecordByte(t, image, "/data/orders-0/"+segment.FileName(0, segment.LogSuffix), 0)

	s = openStore(t, image, &log.Options{RecoveryPointInterval: -1})
	require.Len(t, s.OfflinePartitions(), 1)
	report, err := s.RepairPartition(ctx, tp("orders", 0), nil)
	require.NoError(t, err, "%+v", report)
	require.Equal(t, []partition.OffsetRange{{From: 0, To: 5}}, report.Lost)
	require.Empty(t, s.OfflinePartitions())
	produceFrom(t, s, "orders", 0, 5, 1)
	again := image.Crash(vfs.DropUnsynced, 1)
	_ = s.Close()
	s = openStore(t, again, nil)
	defer s.Close()
	require.Empty(t, s.OfflinePartitions())
}
