package log

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/vfs"
)

// Internal topics are created by the store itself, survive restart, are hidden
// from ListTopics and cannot be deleted.
func TestInternalTopics(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := context.Background()
	s, err := Open("/data", &Options{FS: fsys})
	require.NoError(t, err)
	require.NoError(t, s.createTopic(ctx, "__consumer_offsets", TopicConfig{}, true))
	require.NoError(t, s.CreateTopic(ctx, "orders", TopicConfig{}))
	require.NoError(t, s.Close())

	s, err = Open("/data", &Options{FS: fsys})
	require.NoError(t, err)
	defer s.Close()
	topics, err := s.ListTopics()
	require.NoError(t, err)
	require.Equal(t, []string{"orders"}, topics)
	d, err := s.DescribeTopic("__consumer_offsets")
	require.NoError(t, err)
	require.True(t, d.Internal)
	require.ErrorIs(t, s.DeleteTopic(ctx, "__consumer_offsets"), ErrInvalidTopicName)
	require.Len(t, s.Stats().Topics, 2)
}
