package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnSendOffsetsRefusedAbortsTheTransaction: offsets refused to a zombie
// member (KIP-447: a generation the group has left behind) leave the transaction
// only able to abort, as Kafka's producer makes the refusal an abortable error:
// otherwise the zombie commits its output without the offsets, and the
// partition's new owner produces it again.
func TestTxnSendOffsetsRefusedAbortsTheTransaction(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "in", log.TopicConfig{Partitions: 1})
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1})
	c, err := s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"in"}, DisableAutoCommit: true})
	require.NoError(t, err)
	defer c.Close()
	produce(t, s, "in", 0, 1)
	_, err = c.Poll(ctx)
	require.NoError(t, err)
	zombie := c.GroupMetadata()
	zombie.Generation--

	p := newTxnProducer(t, s, "copier")
	require.NoError(t, p.BeginTransaction())
	require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("copy of in/0")}).FirstErr())
	err = p.SendOffsetsToTransaction(ctx, map[log.TopicPartition]log.OffsetAndMetadata{tp("in", 0): {Offset: 1}}, zombie)
	require.ErrorIs(t, err, log.ErrIllegalGeneration)
	require.ErrorIs(t, p.CommitTransaction(ctx), log.ErrTransactionAborted)
	require.Empty(t, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted), "the zombie's output is not committed")

	require.NoError(t, p.BeginTransaction(), "the producer goes on with the next transaction")
}
