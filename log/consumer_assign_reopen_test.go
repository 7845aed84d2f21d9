package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// requireAssignKeeps reads 3 of tp's 5 records, pauses tp, lets change replace
// the partition's log (a reopen, a leader change), assigns again with assign and
// checks that tp kept its position and its pause, as Assign documents for a
// partition that stays assigned, and reads on from there.
func requireAssignKeeps(t *testing.T, s *log.Store, tp log.TopicPartition, change func(), assign func(*log.Consumer) error) {
	t.Helper()
	produce(t, s, tp.Topic, tp.Partition, 5)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp)
	nextN(t, c, 3)
	require.NoError(t, c.Pause(tp))
	change()
	require.NoError(t, assign(c))
	position, err := c.Position(tp)
	require.NoError(t, err)
	require.Equal(t, int64(3), position, "the position is kept")
	require.Equal(t, []log.TopicPartition{tp}, c.Paused(), "the pause is kept")
	require.NoError(t, c.Resume(tp))
	require.Equal(t, int64(3), nextN(t, c, 1)[0].Offset)
}

// TestAssignTopicsKeepsPositionOfAReopenedPartition: AlterTopicConfig opens the
// partition again; calling AssignTopics after it (as its doc suggests, to pick up
// added partitions) keeps the positions of the partitions that stay.
func TestAssignTopicsKeepsPositionOfAReopenedPartition(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
	requireAssignKeeps(t, s, tp("t", 0), func() {
		require.NoError(t, s.AlterTopicConfig(testContext(t), "t", log.TopicConfig{SegmentBytes: 4096}))
	}, func(c *log.Consumer) error { return c.AssignTopics("t") })
}

// TestAssignKeepsPositionAcrossALeaderChange: in a store of several brokers, Assign
// after the partition's leader moved keeps the position.
func TestAssignKeepsPositionAcrossALeaderChange(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	requireAssignKeeps(t, s, tp("orders", 0), func() {
		require.NoError(t, s.StopBroker(describe(t, s, "orders").Partitions[0].Leader))
	}, func(c *log.Consumer) error { return c.Assign(tp("orders", 0)) })
}

// TestAssignAfterATopicIsCreatedAgain: a partition of a topic deleted and created
// again under the same name is a new partition: Assign gives it the Reset policy's
// position and no pause, not what the consumer had in the old topic.
func TestAssignAfterATopicIsCreatedAgain(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	produce(t, s, "t", 0, 5)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	nextN(t, c, 4)
	require.NoError(t, c.Pause(tp("t", 0)))
	require.NoError(t, s.DeleteTopic(testContext(t), "t"))
	createTopic(t, s, "t", log.TopicConfig{})
	produce(t, s, "t", 0, 2)
	require.NoError(t, c.AssignTopics("t"))
	require.Empty(t, c.Paused())
	require.Equal(t, []int64{0, 1}, []int64{nextN(t, c, 1)[0].Offset, nextN(t, c, 1)[0].Offset})
}
