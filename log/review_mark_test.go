package log_test

// Review of the segment marks of recovery-points.checkpoint: no false alarm from
// strata's own states.

import (
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
