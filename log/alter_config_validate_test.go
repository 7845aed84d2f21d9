package log_test

import (
	"context"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

// TestValidateAlterTopicConfigChangesNothing checks that ValidateAlterTopicConfig
// accepts what AlterTopicConfig accepts, refuses what it refuses (the limits
// against the store included), and changes nothing.
func TestValidateAlterTopicConfigChangesNothing(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "orders", log.TopicConfig{RetentionAge: time.Hour})

	require.NoError(t, s.ValidateAlterTopicConfig("orders", log.TopicConfig{RetentionAge: time.Minute}, log.ConfigSegmentBytes))
	require.Equal(t, time.Hour, describe(t, s, "orders").Config.RetentionAge)

	for _, tc := range []struct {
		name  string
		set   log.TopicConfig
		reset []string
		want  error
	}{
		{"min.insync.replicas above the replication factor", log.TopicConfig{MinInsyncReplicas: 2}, nil, log.ErrInvalidConfig},
		{"an unknown config reset", log.TopicConfig{}, []string{"no.such.config"}, log.ErrInvalidConfig},
		{"a config set and reset", log.TopicConfig{RetentionAge: time.Minute}, []string{log.ConfigRetentionMs}, log.ErrInvalidConfig},
	} {
		err := s.ValidateAlterTopicConfig("orders", tc.set, tc.reset...)
		require.ErrorIs(t, err, tc.want, tc.name)
		require.ErrorIs(t, s.AlterTopicConfig(context.Background(), "orders", tc.set, tc.reset...), tc.want, tc.name)
	}
	require.ErrorIs(t, s.ValidateAlterTopicConfig("missing", log.TopicConfig{RetentionAge: time.Minute}), log.ErrUnknownTopic)
	require.Equal(t, time.Hour, describe(t, s, "orders").Config.RetentionAge)
}
