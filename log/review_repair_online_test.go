package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// A plain Consumer that hit damage in an online partition goes on reading after
// RepairPartition, from where it stopped, past the offsets given up, without being
// assigned again. Found in review: it kept the closed partition and failed with
// "topic deleted" forever. A healthy partition is not even closed by a repair.
func TestRepairPartitionKeepsConsumers(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 1})
	produceFrom(t, s, "orders", 0, 0, 3)
	produceFrom(t, s, "orders", 0, 3, 2)
	produceFrom(t, s, "orders", 0, 5, 2)
	require.NoError(t, s.Close())
	flipRecordByte(t, fsys, "/data/orders-0/"+segment.FileName(0, segment.LogSuffix), 1)

	s = openStore(t, fsys, nil)
	ctx := testContext(t)
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp("orders", 0)))
	records, err := c.Poll(ctx) // the first batch, and the damage after it
	if err == nil {
		_, err = c.Poll(ctx)
	}
	require.Len(t, records, 3)
	require.ErrorIs(t, err, log.ErrCorrupt)

	report, err := s.RepairPartition(ctx, tp("orders", 0), &partition.RepairOptions{KeepLater: true})
	require.NoError(t, err)
	require.Equal(t, []partition.OffsetRange{{From: 3, To: 7}}, report.Lost)
	produceFrom(t, s, "orders", 0, 7, 1)
	records, err = c.Poll(ctx)
	require.NoError(t, err, "Poll after the partition is back online")
	require.Len(t, records, 1)
	require.Equal(t, int64(7), records[0].Offset)
	require.Equal(t, value("orders", 7), records[0].Value)

	healthy, err := s.RepairPartition(ctx, tp("orders", 0), nil)
	require.NoError(t, err)
	require.Empty(t, healthy.Problems)
	produceFrom(t, s, "orders", 0, 8, 1)
	records, err = c.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, records, 1)
}
