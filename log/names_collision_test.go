package log_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A name that differs from an existing topic's only in case, or only in '.' and
// '_', is refused with a *TopicCollisionError naming both, and nothing is created:
// on a case-insensitive filesystem (macOS, Windows) the partition directories of
// "Orders" and "orders" are the same, and Kafka refuses '.' against '_' (its metric
// names replace '.' by '_').
func TestCreateTopicRefusesCollidingNames(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	ctx := context.Background()
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	createTopic(t, s, "metrics.cpu", log.TopicConfig{})
	before, err := fsys.ReadDir("/data")
	require.NoError(t, err)
	for _, c := range []struct{ name, existing string }{
		{"Orders", "orders"},
		{"ORDERS", "orders"},
		{"metrics_cpu", "metrics.cpu"},
		{"Metrics_CPU", "metrics.cpu"},
		{"metrics.CPU", "metrics.cpu"},
	} {
		err := s.CreateTopic(ctx, c.name, log.TopicConfig{})
		var collision *log.TopicCollisionError
		require.ErrorAs(t, err, &collision, "name %q", c.name)
		require.Equal(t, c.name, collision.Topic)
		require.Equal(t, c.existing, collision.Existing)
		require.ErrorIs(t, err, log.ErrTopicCollision)
		require.ErrorIs(t, err, log.ErrInvalidTopicName, "Kafka's InvalidTopicException")
		require.ErrorContains(t, err, "collides with existing topic")
	}
	after, err := fsys.ReadDir("/data")
	require.NoError(t, err)
	require.Equal(t, before, after)
	topics, err := s.ListTopics()
	require.NoError(t, err)
	require.Len(t, topics, 2)
	// The exact name is still ErrTopicExists; other names are fine.
	require.ErrorIs(t, s.CreateTopic(ctx, "orders", log.TopicConfig{}), log.ErrTopicExists)
	require.False(t, errors.Is(s.CreateTopic(ctx, "orders", log.TopicConfig{}), log.ErrTopicCollision))
	createTopic(t, s, "orders-2", log.TopicConfig{})
	createTopic(t, s, "metrics-cpu", log.TopicConfig{})
	// Once the topic is deleted, the name is free.
	require.NoError(t, s.DeleteTopic(ctx, "orders"))
	createTopic(t, s, "Orders", log.TopicConfig{})
}

// As Kafka's kafka-topics does, creating a topic whose name holds '.' or '_' logs a
// warning that such names could collide; other names log none.
func TestCreateTopicWarnsOfDotsAndUnderscores(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := openStore(t, vfs.NewMem(), &log.Options{Logger: logger})
	createTopic(t, s, "orders", log.TopicConfig{})
	require.Empty(t, buf.String())
	createTopic(t, s, "metrics.cpu", log.TopicConfig{})
	require.Contains(t, buf.String(), "level=WARN")
	require.Contains(t, buf.String(), `topic=metrics.cpu`)
	buf.Reset()
	createTopic(t, s, "user_events", log.TopicConfig{})
	require.Contains(t, buf.String(), `topic=user_events`)
}

// A user topic whose name folds to an internal topic's ("._consumer_offsets" and
// "__consumer_offsets" differ only in '.' and '_') does not keep the store from
// creating its internal topic when groups are first used: the two names share no
// directory, and strata, not the user, chose the internal one.
func TestUserTopicDoesNotBlockTheOffsetsTopic(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	ctx := context.Background()
	createTopic(t, s, "._consumer_offsets", log.TopicConfig{})
	createTopic(t, s, "orders", log.TopicConfig{})
	tp := log.TopicPartition{Topic: "orders", Partition: 0}
	require.NoError(t, s.CommitGroupOffsets(ctx, "billing", map[log.TopicPartition]log.OffsetAndMetadata{tp: {Offset: 0}}))
	committed, err := s.CommittedOffsets(ctx, "billing", tp)
	require.NoError(t, err)
	require.Equal(t, int64(0), committed[tp].Offset)
}

// CreateTopic calls racing with colliding names, in a one-broker store and in one
// of three brokers: exactly one of each colliding set is created, the others
// refused with a *TopicCollisionError.
func TestCreateTopicCollisionRace(t *testing.T) {
	for _, brokers := range []int{1, 3} {
		fsys := vfs.NewMem()
		var s *log.Store
		if brokers == 1 {
			s = openStore(t, fsys, nil)
		} else {
			s = openBrokers(t, fsys, brokers)
		}
		names := []string{"a.b", "a_b", "A.B", "A_b", "a.B"}
		errs := make(chan error, len(names))
		for _, name := range names {
			go func() { errs <- s.CreateTopic(context.Background(), name, log.TopicConfig{}) }()
		}
		created := 0
		for range names {
			err := <-errs
			if err == nil {
				created++
				continue
			}
			var collision *log.TopicCollisionError
			require.ErrorAs(t, err, &collision, "brokers %d", brokers)
		}
		require.Equal(t, 1, created, "brokers %d", brokers)
		topics, err := s.ListTopics()
		require.NoError(t, err)
		require.Len(t, topics, 1, "brokers %d", brokers)
		require.NoError(t, s.Close())
	}
}
