package log_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnGroupTransactSessionCommitsOutputWithOffsets: a session copies records
// from "in" to "out"; a committed transaction makes the output and the group's
// offsets visible together; an aborted one leaves neither, and the consumer
// reads its input again.
func TestTxnGroupTransactSessionCommitsOutputWithOffsets(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "in", log.TopicConfig{Partitions: 1})
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1})
	produce(t, s, "in", 0, 6)
	session, err := s.NewGroupTransactSession(
		log.GroupConsumerOptions{Group: "copier", Topics: []string{"in"}, MaxPollRecords: 3},
		log.ProducerOptions{TransactionalID: "copier-1", Linger: -1},
	)
	require.NoError(t, err)
	defer session.Close()

	copyOnce := func(commit bool) (bool, []string) {
		require.NoError(t, session.Begin())
		records, err := session.Poll(ctx)
		require.NoError(t, err)
		var values []string
		for _, r := range records {
			values = append(values, string(r.Value))
			res := session.ProduceSync(ctx, &log.Record{Topic: "out", Value: append([]byte("copy of "), r.Value...)})
			require.NoError(t, res.FirstErr())
		}
		committed, err := session.End(ctx, commit)
		require.NoError(t, err)
		return committed, values
	}

	committed, first := copyOnce(true)
	require.True(t, committed)
	require.Equal(t, []string{"in/0", "in/1", "in/2"}, first)
	offsets, err := s.CommittedOffsets(ctx, "copier", tp("in", 0))
	require.NoError(t, err)
	require.Equal(t, int64(3), offsets[tp("in", 0)].Offset)

	committed, second := copyOnce(false)
	require.False(t, committed)
	require.Equal(t, []string{"in/3", "in/4", "in/5"}, second)
	offsets, err = s.CommittedOffsets(ctx, "copier", tp("in", 0))
	require.NoError(t, err)
	require.Equal(t, int64(3), offsets[tp("in", 0)].Offset, "an aborted transaction's offsets are dropped")

	committed, again := copyOnce(true)
	require.True(t, committed)
	require.Equal(t, second, again, "the aborted transaction's input is read again")
	offsets, err = s.CommittedOffsets(ctx, "copier", tp("in", 0))
	require.NoError(t, err)
	require.Equal(t, int64(6), offsets[tp("in", 0)].Offset)

	var want []string
	for i := range 6 {
		want = append(want, fmt.Sprintf("copy of in/%d", i))
	}
	require.Equal(t, want, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))
	require.Len(t, readTxnValues(t, s, tp("out", 0), partition.ReadUncommitted), 9)
}

// TestTxnSendOffsetsOfAFencedMemberRefused: KIP-447: offsets sent with a
// generation the group has left behind are refused, and nothing commits.
func TestTxnSendOffsetsOfAFencedMemberRefused(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "in", log.TopicConfig{Partitions: 1})
	c, err := s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"in"}, DisableAutoCommit: true})
	require.NoError(t, err)
	defer c.Close()
	produce(t, s, "in", 0, 1)
	_, err = c.Poll(ctx)
	require.NoError(t, err)
	stale := c.GroupMetadata()
	stale.Generation--

	p := newTxnProducer(t, s, "t")
	require.NoError(t, p.BeginTransaction())
	err = p.SendOffsetsToTransaction(ctx, map[log.TopicPartition]log.OffsetAndMetadata{tp("in", 0): {Offset: 1}}, stale)
	require.ErrorIs(t, err, log.ErrIllegalGeneration)
	require.ErrorIs(t, p.CommitTransaction(ctx), log.ErrTransactionAborted, "a refused send can only abort")
	require.NoError(t, p.BeginTransaction())
	require.NoError(t, p.SendOffsetsToTransaction(ctx, map[log.TopicPartition]log.OffsetAndMetadata{tp("in", 0): {Offset: 1}}, c.GroupMetadata()))
	offsets, err := s.CommittedOffsets(ctx, "g", tp("in", 0))
	require.NoError(t, err)
	require.Empty(t, offsets, "pending until the transaction commits")
	require.NoError(t, p.CommitTransaction(ctx))
	offsets, err = s.CommittedOffsets(ctx, "g", tp("in", 0))
	require.NoError(t, err)
	require.Equal(t, int64(1), offsets[tp("in", 0)].Offset)
}

// TestTxnAdminAbortInOffsetsTopicDropsPendingOffsets: an ABORT marker an
// operator writes to __consumer_offsets (Store.AbortTransaction) drops the
// transaction's pending offsets, so that its later COMMIT marker there commits
// nothing.
func TestTxnAdminAbortInOffsetsTopicDropsPendingOffsets(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "in", log.TopicConfig{Partitions: 1})
	p := newTxnProducer(t, s, "t")
	require.NoError(t, p.BeginTransaction())
	require.NoError(t, p.SendOffsetsToTransaction(ctx, map[log.TopicPartition]log.OffsetAndMetadata{tp("in", 0): {Offset: 1}}, log.GroupMetadata{Group: "g", Generation: -1}))
	offsetsTP := tp(log.OffsetsTopic, 0)
	producers, err := s.DescribeProducers(offsetsTP)
	require.NoError(t, err)
	require.Len(t, producers, 1)
	require.NoError(t, s.AbortTransaction(ctx, offsetsTP, producers[0].ProducerID, producers[0].ProducerEpoch, 0))
	require.NoError(t, p.CommitTransaction(ctx))
	offsets, err := s.CommittedOffsets(ctx, "g", tp("in", 0))
	require.NoError(t, err)
	require.Empty(t, offsets)
}
