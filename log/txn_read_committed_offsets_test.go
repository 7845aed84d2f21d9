package log_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestTxnReadCommittedGroupConsumerWaitsForPendingOffsets: KIP-447: a
// read_committed group consumer assigned a partition whose offsets are pending
// in a transaction (sent with SendOffsetsToTransaction, not yet ended) does not
// start from the committed offset of before the transaction: it waits until the
// transaction ends and starts from the offset it committed. Otherwise the new
// owner processes again the input whose output the transaction commits.
func TestTxnReadCommittedGroupConsumerWaitsForPendingOffsets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "in", log.TopicConfig{Partitions: 1})
		produce(t, s, "in", 0, 6)
		p := newTxnProducer(t, s, "copier-1")
		require.NoError(t, p.BeginTransaction())
		offsets := map[log.TopicPartition]log.OffsetAndMetadata{tp("in", 0): {Offset: 4}}
		require.NoError(t, p.SendOffsetsToTransaction(ctx, offsets, log.GroupMetadata{Group: "g", Generation: -1}))

		c := newGroupConsumer(t, s, log.GroupConsumerOptions{
			Group: "g", Topics: []string{"in"}, IsolationLevel: log.ReadCommitted, DisableAutoCommit: true,
		})
		defer c.Close()
		synctest.Wait() // the consumer joined and took the partition
		require.NoError(t, p.CommitTransaction(ctx))

		pollCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		records, err := c.Poll(pollCtx)
		require.NoError(t, err)
		require.NotEmpty(t, records)
		require.Equal(t, int64(4), records[0].Offset, "the consumer starts where the transaction committed")
	})
}
