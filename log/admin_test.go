package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

func TestTopicLifecycle(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	ctx := context.Background()

	createTopic(t, s, "orders", log.TopicConfig{Partitions: 3})
	createTopic(t, s, "audit", log.TopicConfig{})
	require.ErrorIs(t, s.CreateTopic(ctx, "orders", log.TopicConfig{}), log.ErrTopicExists)
	topics, err := s.ListTopics()
	require.NoError(t, err)
	require.Equal(t, []string{"audit", "orders"}, topics)

	produce(t, s, "orders", 1, 4)
	d := describe(t, s, "orders")
	require.Equal(t, "orders", d.Name)
	require.False(t, d.Internal)
	require.Len(t, d.Partitions, 3)
	require.Equal(t, log.PartitionInfo{Partition: 1, StartOffset: 0, EndOffset: 4, Bytes: d.Partitions[1].Bytes, Segments: 1,
		Leader: 0, Replicas: []replica.BrokerID{0}, ISR: []replica.BrokerID{0}}, d.Partitions[1])
	require.Positive(t, d.Partitions[1].Bytes)
	require.Equal(t, int64(0), d.Partitions[2].Bytes)

	require.NoError(t, s.AddPartitions(ctx, "orders", 5))
	d = describe(t, s, "orders")
	require.Len(t, d.Partitions, 5)
	require.Equal(t, 5, d.Config.Partitions)
	require.Equal(t, int64(4), d.Partitions[1].EndOffset, "existing partitions keep their records")
	produce(t, s, "orders", 4, 2)
	for _, total := range []int{5, 4, log.MaxPartitions + 1} {
		err := s.AddPartitions(ctx, "orders", total)
		require.ErrorIs(t, err, log.ErrInvalidConfig, "total %d", total)
		require.ErrorContains(t, err, "Partitions")
	}
	require.ErrorIs(t, s.AddPartitions(ctx, "missing", 2), log.ErrUnknownTopic)

	require.NoError(t, s.DeleteTopic(ctx, "orders"))
	require.ErrorIs(t, s.DeleteTopic(ctx, "orders"), log.ErrUnknownTopic)
	_, err = s.DescribeTopic("orders")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
	entries, err := fsys.ReadDir("/data")
	require.NoError(t, err)
	require.Equal(t, []string{".lock", "audit-0", "topics.json"}, entries)

	// The name can be used again, and starts empty.
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 5})
	for _, p := range describe(t, s, "orders").Partitions {
		require.Equal(t, int64(0), p.EndOffset)
	}
}

func TestCanceledContextChangesNothing(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.CreateTopic(ctx, "u", log.TopicConfig{}), context.Canceled)
	require.ErrorIs(t, s.DeleteTopic(ctx, "t"), context.Canceled)
	require.ErrorIs(t, s.AddPartitions(ctx, "t", 2), context.Canceled)
	require.ErrorIs(t, s.Produce(ctx, &log.Record{Topic: "t"}), context.Canceled)
	require.ErrorIs(t, s.DeleteRecords(ctx, tp("t", 0), 0), context.Canceled)
	topics, err := s.ListTopics()
	require.NoError(t, err)
	require.Equal(t, []string{"t"}, topics)
	require.Len(t, describe(t, s, "t").Partitions, 1)
}

func TestDeleteRecords(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	ctx := context.Background()
	createTopic(t, s, "t", log.TopicConfig{SegmentBytes: 1024})
	produceInCalls(t, s, "t", 0, 100, 5)
	before := describe(t, s, "t").Partitions[0]
	require.NoError(t, s.DeleteRecords(ctx, tp("t", 0), 60))
	after := describe(t, s, "t").Partitions[0]
	require.Equal(t, int64(60), after.StartOffset)
	require.Less(t, after.Segments, before.Segments)
	require.ErrorIs(t, s.DeleteRecords(ctx, tp("t", 0), 101), log.ErrOffsetOutOfRange)
	require.ErrorIs(t, s.DeleteRecords(ctx, tp("t", 1), 0), log.ErrUnknownPartition)
	require.ErrorIs(t, s.DeleteRecords(ctx, tp("nope", 0), 0), log.ErrUnknownTopic)
	require.NoError(t, s.DeleteRecords(ctx, tp("t", 0), 10), "below the start offset: nothing changes")
	require.Equal(t, int64(60), describe(t, s, "t").Partitions[0].StartOffset)
}
