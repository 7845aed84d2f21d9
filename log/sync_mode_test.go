package log_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
)

// log.SyncMode is partition.SyncMode, and log.SyncPolicy partition.SyncPolicy: one set of values, one set of names, the
// zero value the default in both. A topic's mode is its partitions' mode, and
// topics.json keeps the mode's name, as before.
func TestSyncModeAndPolicyAreThePartitions(t *testing.T) {
	modes := []struct {
		log       log.SyncMode
		partition partition.SyncMode
		name      string
	}{
		{log.SyncDefault, partition.SyncDefault, "default"},
		{log.SyncEveryAppend, partition.SyncEveryAppend, "every-append"},
		{log.SyncPeriodic, partition.SyncPeriodic, "periodic"},
		{log.SyncNone, partition.SyncNone, "none"},
	}
	for i, m := range modes {
		require.Equal(t, m.partition, m.log)
		require.Equal(t, i, int(m.log), "log's values are unchanged")
		require.Equal(t, m.name, m.log.String())
	}
	var policy log.SyncPolicy = partition.SyncPolicy{Mode: partition.SyncPeriodic, EveryRecords: 3} // one type
	require.Equal(t, log.SyncPeriodic, policy.Mode)
	var zero partition.Options
	p, err := partition.Open(t.TempDir(), &zero)
	require.NoError(t, err)
	require.Equal(t, partition.SyncEveryAppend, p.SyncPolicy().Mode, "a partition's default")
	require.NoError(t, p.Close())

	dir := t.TempDir()
	s, err := log.Open(dir, nil)
	require.NoError(t, err)
	createTopic(t, s, "lazy", log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncNone}})
	createTopic(t, s, "eager", log.TopicConfig{})
	require.NoError(t, s.Close())
	data, err := os.ReadFile(filepath.Join(dir, "topics.json"))
	require.NoError(t, err)
	require.Contains(t, string(data), `"sync": "none"`)
	require.NotContains(t, string(data), `"sync": "every-append"`, "a topic's default is not written")
	s, err = log.Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	lazy, err := s.DescribeTopic("lazy")
	require.NoError(t, err)
	require.Equal(t, log.SyncNone, lazy.Config.Sync.Mode)
	eager, err := s.DescribeTopic("eager")
	require.NoError(t, err)
	require.Equal(t, log.SyncEveryAppend, eager.Config.Sync.Mode)
}
