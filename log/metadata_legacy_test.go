package log_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// legacyOwnConfig is a topic's "config" in topics.json versions 1 and 2 (strata's
// own keys, Go durations), setting every field of TopicConfig that has one; rf and
// isr are its replication factor and min.insync.replicas.
func legacyOwnConfig(rf, isr int) string {
	return fmt.Sprintf(`{
        "sync.mode": "periodic",
        "sync.every.records": 100,
        "sync.interval": "1.5ms",
        "segment.bytes": 1048576,
        "segment.age": "1h0m0s",
        "retention.bytes": -1,
        "retention.age": "168h0m0s",
        "compression": "zstd",
        "max.batch.bytes": 4096,
        "cleanup.policy": "compact,delete",
        "delete.retention": "unlimited",
        "min.cleanable.dirty.ratio": 0.25,
        "min.compaction.lag": "1s",
        "replication.factor": %d,
        "min.insync.replicas": %d,
        "unclean.leader.election.enable": true
      }`, rf, isr)
}

// legacyWantConfig is the effective config of a topic whose own config is
// legacyOwnConfig(rf, isr), with partitions partitions.
func legacyWantConfig(partitions, rf, isr int) log.TopicConfig {
	return log.TopicConfig{
		Partitions:   partitions,
		Sync:         log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 100, Interval: 1500 * time.Microsecond},
		SegmentBytes: 1 << 20, SegmentAge: time.Hour, RetentionBytes: log.Unlimited, RetentionAge: 7 * 24 * time.Hour,
		Compression: log.CompressionZstd, MaxBatchBytes: 4096, CleanupPolicy: log.CleanupCompactDelete,
		DeleteRetention: log.Unlimited, MinCleanableDirtyRatio: 0.25, MinCompactionLag: time.Second,
		ReplicationFactor: rf, MinInsyncReplicas: isr, UncleanLeaderElection: true,
	}
}

// legacyDefaults are store defaults that a topic without settings of its own
// inherits; inheritedConfig is the effective config they give.
var legacyDefaults = log.TopicConfig{SegmentAge: 2 * time.Hour, RetentionBytes: 12345, Compression: log.CompressionGzip}

func inheritedConfig(partitions, rf int) log.TopicConfig {
	return log.TopicConfig{
		Partitions: partitions, Sync: log.SyncPolicy{Mode: log.SyncEveryAppend},
		SegmentBytes: log.DefaultSegmentBytes, SegmentAge: 2 * time.Hour, RetentionBytes: 12345, RetentionAge: log.Unlimited,
		Compression: log.CompressionGzip, MaxBatchBytes: log.DefaultMaxBatchBytes, CleanupPolicy: log.CleanupDelete,
		DeleteRetention: log.DefaultDeleteRetention, MinCleanableDirtyRatio: log.DefaultMinCleanableDirtyRatio,
		ReplicationFactor: rf, MinInsyncReplicas: 1,
	}
}

// requireLegacyConfigs checks the effective configs of "orders" (every setting
// its own) and "plain" (none) in s.
func requireLegacyConfigs(t *testing.T, s *log.Store, rf, isr int) {
	t.Helper()
	require.Equal(t, legacyWantConfig(2, rf, isr), describe(t, s, "orders").Config)
	require.Equal(t, inheritedConfig(1, rf), describe(t, s, "plain").Config)
	require.Empty(t, s.OfflinePartitions())
}

// topicsFile is what the tests read of topics.json.
type topicsFile struct {
	Version int `json:"version"`
	Topics  []struct {
		Name              string            `json:"name"`
		TopicID           string            `json:"topicId"`
		ReplicationFactor int               `json:"replicationFactor"`
		Config            map[string]string `json:"config"`
	} `json:"topics"`
}

// readTopicsFile reads and decodes the topics.json at path (its checksum checked).
func readTopicsFile(t *testing.T, fsys vfs.FS, path string) topicsFile {
	t.Helper()
	data, err := vfs.ReadFile(fsys, path)
	require.NoError(t, err)
	body, found, err := crcline.Split(path, data)
	require.NoError(t, err)
	require.True(t, found, "%s has a checksum line", path)
	var f topicsFile
	require.NoError(t, json.Unmarshal(body, &f), "%s", body)
	return f
}

// requireRewrittenLegacy checks that the topics.json at path is version 4, holding
// a topic ID for every topic and the settings of legacyOwnConfig(rf, isr) under
// Kafka's config names, and none for "plain" but rf.
func requireRewrittenLegacy(t *testing.T, fsys vfs.FS, path string, rf, isr int, plainRF int) {
	t.Helper()
	f := readTopicsFile(t, fsys, path)
	require.Equal(t, 4, f.Version, path)
	byName := map[string]int{}
	for i, tm := range f.Topics {
		byName[tm.Name] = i
		_, err := log.ParseTopicID(tm.TopicID)
		require.NoError(t, err, "%s: topic %q", path, tm.Name)
	}
	orders, plain := f.Topics[byName["orders"]], f.Topics[byName["plain"]]
	require.Equal(t, map[string]string{
		"cleanup.policy": "compact,delete", "compression.type": "zstd", "delete.retention.ms": "-1",
		"max.message.bytes": "4096", "min.cleanable.dirty.ratio": "0.25", "min.compaction.lag.ms": "1000",
		"min.insync.replicas": fmt.Sprint(isr), "retention.bytes": "-1", "retention.ms": "604800000",
		"segment.bytes": "1048576", "segment.ms": "3600000", "sync": "periodic", "sync.interval.ms": "1.5",
		"sync.records": "100", "unclean.leader.election.enable": "true",
	}, orders.Config, path)
	require.Equal(t, rf, orders.ReplicationFactor, path)
	require.Empty(t, plain.Config, "%s: inherited settings stay unset", path)
	require.Equal(t, plainRF, plain.ReplicationFactor, path)
}

// A one-broker store whose topics.json is version 2 (or 1, without the checksum)
// opens with every setting of its topics: a topic's own settings as they were, and
// a topic without any inheriting the store's defaults. Open gives the topics their
// IDs and writes version 4, every setting under Kafka's config names, which opens
// with the same settings and IDs.
func TestMetadataOldVersionsKeepEverySetting(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("version=%d", version), func(t *testing.T) {
			fsys := vfs.NewMem()
			s := openStore(t, fsys, nil)
			createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
			createTopic(t, s, "plain", log.TopicConfig{})
			require.NoError(t, s.Close())
			old := []byte(fmt.Sprintf(`{
  "version": %d,
  "topics": [
    {
      "name": "orders",
      "partitions": 2,
      "partitioner": "murmur2",
      "config": %s
    },
    {
      "name": "plain",
      "partitions": 1,
      "config": {}
    }
  ]
}
`, version, legacyOwnConfig(1, 1)))
			if version == 2 {
				old = crcline.Append(old)
			}
			require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", old))
			require.Equal(t, 3, asOlderStore(t, fsys, "/data"))

			s = openStore(t, fsys, &log.Options{TopicDefaults: legacyDefaults})
			requireLegacyConfigs(t, s, 1, 1)
			ids := topicIDs(t, s, "orders", "plain")
			require.NoError(t, s.Close())
			requireRewrittenLegacy(t, fsys, "/data/topics.json", 1, 1, 0)

			s = openStore(t, fsys, &log.Options{TopicDefaults: legacyDefaults})
			require.Equal(t, ids, topicIDs(t, s, "orders", "plain"))
			createTopic(t, s, "audit", log.TopicConfig{})
			require.NoError(t, s.Close())
			requireRewrittenLegacy(t, fsys, "/data/topics.json", 1, 1, 0)
			s = openStore(t, fsys, &log.Options{TopicDefaults: legacyDefaults})
			requireLegacyConfigs(t, s, 1, 1)
			require.Equal(t, ids, topicIDs(t, s, "orders", "plain"))
		})
	}
}

// A store of three brokers whose copies of topics.json are version 2 opens with
// every setting of its topics, replication's included; Open gives the topics their
// IDs and writes version 4 into every broker directory (the sequence going on from
// the old one's), which opens with the same settings and IDs.
func TestReplicatedMetadataVersion2KeepsEverySetting(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 3})
	createTopic(t, s, "plain", log.TopicConfig{ReplicationFactor: 3})
	require.NoError(t, s.Close())
	old := crcline.Append([]byte(fmt.Sprintf(`{
  "version": 2,
  "sequence": 1000,
  "topics": [
    {
      "name": "orders",
      "partitions": 2,
      "partitioner": "murmur2",
      "config": %s
    },
    {
      "name": "plain",
      "partitions": 1,
      "partitioner": "murmur2",
      "config": {
        "replication.factor": 3
      }
    }
  ]
}
`, legacyOwnConfig(3, 2))))
	dirs := []string{"/data", "/data/broker.1", "/data/broker.2"}
	for _, dir := range dirs {
		require.NoError(t, vfs.WriteFileAtomic(fsys, dir+"/topics.json", old))
	}
	require.Equal(t, 9, asOlderStore(t, fsys, "/data"))

	s = openStore(t, fsys, &log.Options{TopicDefaults: legacyDefaults})
	requireLegacyConfigs(t, s, 3, 2)
	ids := topicIDs(t, s, "orders", "plain")
	require.NoError(t, s.Close())
	for _, dir := range dirs {
		requireRewrittenLegacy(t, fsys, dir+"/topics.json", 3, 2, 3)
		data, err := vfs.ReadFile(fsys, dir+"/topics.json")
		require.NoError(t, err)
		require.Contains(t, string(data), `"sequence": 1001,`, dir)
	}
	old, err := vfs.ReadFile(fsys, dirs[2]+"/topics.json")
	require.NoError(t, err)

	// Broker 2's disk is away at the next change: its copy stays as it was, and
	// loses to the others' at the next Open, which has it back.
	require.NoError(t, fsys.Rename("/data/broker.2", "/away"))
	s = openStore(t, fsys, &log.Options{TopicDefaults: legacyDefaults})
	createTopic(t, s, "audit", log.TopicConfig{ReplicationFactor: 2})
	require.NoError(t, s.Close())
	require.NoError(t, fsys.Rename("/away", "/data/broker.2"))
	for _, dir := range dirs[:2] {
		requireRewrittenLegacy(t, fsys, dir+"/topics.json", 3, 2, 3)
		data, err := vfs.ReadFile(fsys, dir+"/topics.json")
		require.NoError(t, err)
		require.Contains(t, string(data), `"sequence": 1002,`, dir)
	}
	data, err := vfs.ReadFile(fsys, dirs[2]+"/topics.json")
	require.NoError(t, err)
	require.Equal(t, string(old), string(data), "broker 2 was offline")

	s = openStore(t, fsys, &log.Options{TopicDefaults: legacyDefaults})
	requireLegacyConfigs(t, s, 3, 2)
	require.Equal(t, ids, topicIDs(t, s, "orders", "plain"))
	requireTopic(t, s, "audit")
	createTopic(t, s, "audit2", log.TopicConfig{ReplicationFactor: 3})
	require.NoError(t, s.Close())
	for _, dir := range dirs {
		requireRewrittenLegacy(t, fsys, dir+"/topics.json", 3, 2, 3)
	}
	s = openStore(t, fsys, &log.Options{TopicDefaults: legacyDefaults})
	requireLegacyConfigs(t, s, 3, 2)
}
