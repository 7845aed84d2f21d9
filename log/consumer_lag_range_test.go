package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// requireLag checks Lag and CaughtUp of a consumer of one partition, and that they
// agree with what the next read returns: TryNext's first record's offset, or nil.
func requireLag(t *testing.T, c *log.Consumer, tp log.TopicPartition, lag int64, next int64) {
	t.Helper()
	got, err := c.Lag(tp)
	require.NoError(t, err)
	require.Equal(t, lag, got, "Lag")
	caughtUp, err := c.CaughtUp()
	require.NoError(t, err)
	require.Equal(t, lag == 0, caughtUp, "CaughtUp")
	r, err := c.TryNext()
	require.NoError(t, err)
	if next < 0 {
		require.Nil(t, r, "nothing to read")
		return
	}
	require.NotNil(t, r)
	require.Equal(t, next, r.Offset, "the next read")
}

// TestLagAndCaughtUpOutsideTheRecords: a position outside the partition's records
// (sought past the end, or below the start after DeleteRecords) is moved by the
// Reset policy at the next read; Lag and CaughtUp say what that read will do,
// instead of counting from a position the consumer will not read from.
func TestLagAndCaughtUpOutsideTheRecords(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	produce(t, s, "t", 0, 5)
	require.NoError(t, s.DeleteRecords(context.Background(), tp("t", 0), 2))

	earliest := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	require.NoError(t, earliest.Seek(tp("t", 0), 100))
	requireLag(t, earliest, tp("t", 0), 3, 2) // past the end: read again from the start, 2
	require.NoError(t, earliest.Seek(tp("t", 0), 1))
	requireLag(t, earliest, tp("t", 0), 3, 2) // below the start: the same

	latest := newConsumer(t, s, log.ConsumerOptions{Reset: log.ResetLatest}, tp("t", 0))
	require.NoError(t, latest.Seek(tp("t", 0), 0))
	requireLag(t, latest, tp("t", 0), 0, -1) // below the start: moved to the end
	require.NoError(t, latest.Seek(tp("t", 0), 100))
	requireLag(t, latest, tp("t", 0), 0, -1) // past the end: the same

	none := newConsumer(t, s, log.ConsumerOptions{Reset: log.ResetNone}, tp("t", 0))
	require.NoError(t, none.Seek(tp("t", 0), 100))
	_, err := none.Lag(tp("t", 0))
	require.ErrorIs(t, err, log.ErrOffsetOutOfRange, "as the next read fails")
	_, err = none.CaughtUp()
	require.ErrorIs(t, err, log.ErrOffsetOutOfRange)
	require.NoError(t, none.Seek(tp("t", 0), 5))
	requireLag(t, none, tp("t", 0), 0, -1) // at the end: in range
}

// produceAndRequireLag produces 3 records to tp, which the consumer c has read to
// its end before its log was replaced, and checks that Lag and CaughtUp see them.
func produceAndRequireLag(t *testing.T, s *log.Store, c *log.Consumer, tp log.TopicPartition) {
	t.Helper()
	produceFrom(t, s, tp.Topic, tp.Partition, 5, 3)
	caughtUp, err := c.CaughtUp()
	require.NoError(t, err)
	require.False(t, caughtUp, "3 records produced since")
	lag, err := c.Lag(tp)
	require.NoError(t, err)
	require.Equal(t, int64(3), lag)
	require.Equal(t, int64(5), nextN(t, c, 1)[0].Offset)
}

// TestCaughtUpAfterAReopen: CaughtUp looks at the partition's log as it is now,
// not at the one AlterTopicConfig closed.
func TestCaughtUpAfterAReopen(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	produce(t, s, "t", 0, 5)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	nextN(t, c, 5)
	require.NoError(t, s.AlterTopicConfig(testContext(t), "t", log.TopicConfig{SegmentBytes: 4096}))
	produceAndRequireLag(t, s, c, tp("t", 0))
}

// TestCaughtUpAfterALeaderChange: in a store of several brokers, CaughtUp looks at
// the partition's leader now, not at the replica that led when the consumer last
// read.
func TestCaughtUpAfterALeaderChange(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 5)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("orders", 0))
	nextN(t, c, 5)
	require.NoError(t, s.StopBroker(describe(t, s, "orders").Partitions[0].Leader))
	produceAndRequireLag(t, s, c, tp("orders", 0))
}

// TestLagAndCaughtUpEmptyAndPaused: an empty topic has no lag under either Reset
// policy that gives a position; a paused partition's records count (CaughtUp
// includes paused partitions) though TryNext, which skips it, returns nil.
func TestLagAndCaughtUpEmptyAndPaused(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "empty", log.TopicConfig{})
	createTopic(t, s, "t", log.TopicConfig{})
	for _, reset := range []log.ResetPolicy{log.ResetEarliest, log.ResetLatest} {
		c := newConsumer(t, s, log.ConsumerOptions{Reset: reset}, tp("empty", 0))
		requireLag(t, c, tp("empty", 0), 0, -1)
	}
	none := newConsumer(t, s, log.ConsumerOptions{Reset: log.ResetNone}, tp("empty", 0))
	_, err := none.CaughtUp()
	require.ErrorIs(t, err, log.ErrOffsetOutOfRange, "no position, as Next says")

	produce(t, s, "t", 0, 3)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("empty", 0), tp("t", 0))
	require.NoError(t, c.Pause(tp("t", 0)))
	r, err := c.TryNext()
	require.NoError(t, err)
	require.Nil(t, r, "the paused partition is not read")
	lag, err := c.Lag(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(3), lag)
	caughtUp, err := c.CaughtUp()
	require.NoError(t, err)
	require.False(t, caughtUp, "a paused partition's records count")
}
