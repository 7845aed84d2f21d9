package log_test

import (
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/txn"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

// TestServingBrokerTransactionalBatchToAFollowerAddsNothing appends a
// transactional batch through a broker that does not lead the partition: it is
// refused with a *NotLeaderError, and the partition is not added to the
// producer's transaction, which stays as it was, as on Kafka, whose follower
// answers NOT_LEADER_OR_FOLLOWER before any verification with the transaction
// coordinator (KIP-890). Through the leader, the same batch adds it.
func TestServingBrokerTransactionalBatchToAFollowerAddsNothing(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "t", log.TopicConfig{ReplicationFactor: 3})
	ctx := testContext(t)
	c, err := s.TxnCoordinator()
	require.NoError(t, err)
	id, err := c.InitProducerID(ctx, "tx", 0, nil)
	require.NoError(t, err)
	batch := func() []byte {
		return clientBatch(t, &segment.BatchOptions{Idempotent: true, Transactional: true,
			ProducerID: id.ProducerID, ProducerEpoch: id.ProducerEpoch}, "x")
	}
	leader := describe(t, s, "t").Partitions[0].Leader
	follower, err := s.Broker((leader + 1) % 3)
	require.NoError(t, err)

	_, err = follower.AppendBatch(ctx, tp("t", 0), batch(), log.AppendBatchOptions{TransactionalID: "tx"})
	var notLeader *log.NotLeaderError
	require.ErrorAs(t, err, &notLeader)
	md, err := c.Describe("tx")
	require.NoError(t, err)
	require.Equal(t, txn.Empty, md.State, "the follower began no transaction")
	require.Empty(t, md.Partitions)

	leading, err := s.Broker(leader)
	require.NoError(t, err)
	_, err = leading.AppendBatch(ctx, tp("t", 0), batch(), log.AppendBatchOptions{TransactionalID: "tx"})
	require.NoError(t, err)
	md, err = c.Describe("tx")
	require.NoError(t, err)
	require.Equal(t, txn.Ongoing, md.State)
	require.Equal(t, []log.TopicPartition{tp("t", 0)}, md.Partitions)
}
