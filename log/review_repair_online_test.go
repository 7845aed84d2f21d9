package log_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestReviewRepairPartitionKeepsConsumers: RepairPartition of an online partition
// closes it and opens a new one. A plain Consumer assigned to it keeps the closed
// *partition.Partition in its assignment (Assign only replaces it when called again),
// so after the repair, with the partition back online, its Poll keeps failing (with
// the partition's ErrClosed, not ErrPartitionOffline as RepairPartition's doc says),
// and new records are never delivered.
func TestReviewRepairPartitionKeepsConsumers(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 1})
	produce(t, s, "orders", 0, 3)
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp("orders", 0)))
	pollN(t, c, 3)

	_, err = s.RepairPartition(context.Background(), tp("orders", 0), nil) // healthy: nothing to do
	require.NoError(t, err)
	produceFrom(t, s, "orders", 0, 3, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	records, err := c.Poll(ctx)
	require.NoError(t, err, "Poll after the partition is back online")
	require.Len(t, records, 2)
}
