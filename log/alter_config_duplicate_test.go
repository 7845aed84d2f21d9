package log_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigRefusesSetAndResetOfOneConfig: a config both set and reset
// in one call is a *ConfigError naming it (Kafka refuses duplicate config keys in
// one incremental AlterConfigs), the sync fields counting as one with ConfigSync,
// and nothing changes.
func TestAlterTopicConfigRefusesSetAndResetOfOneConfig(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{RetentionAge: time.Hour})
	before := describe(t, s, "orders").Config

	for _, tc := range []struct {
		set   log.TopicConfig
		reset string
	}{
		{log.TopicConfig{RetentionAge: time.Minute}, log.ConfigRetentionMs},
		{log.TopicConfig{UncleanLeaderElection: true}, log.ConfigUncleanLeaderElection},
		{log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 5}}, log.ConfigSync},
		{log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 5}}, log.ConfigSyncRecords},
	} {
		err := s.AlterTopicConfig(ctx, "orders", tc.set, tc.reset)
		require.ErrorIs(t, err, log.ErrInvalidConfig, "set %+v, reset %s", tc.set, tc.reset)
		var ce *log.ConfigError
		require.True(t, errors.As(err, &ce))
		require.Contains(t, ce.Error(), tc.reset)
		require.Equal(t, before, describe(t, s, "orders").Config)
	}
}
