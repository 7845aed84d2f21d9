package log_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigTakesEffectAndPersists alters a one-broker store's topic:
// the running partition rolls at the new segment size and deletes by the new
// retention, a consumer reading it carries on, and the change survives a reopen.
func TestAlterTopicConfigTakesEffectAndPersists(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{Compression: log.CompressionGzip})
	produce(t, s, "orders", 0, 10)
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp("orders", 0)))
	require.Len(t, pollN(t, c, 10), 10)

	require.NoError(t, s.AlterTopicConfig(ctx, "orders",
		log.TopicConfig{SegmentBytes: 200, RetentionBytes: 400, Sync: log.SyncPolicy{Mode: log.SyncNone}}, log.ConfigCompressionType))
	d := describe(t, s, "orders")
	require.EqualValues(t, 200, d.Config.SegmentBytes)
	require.EqualValues(t, 400, d.Config.RetentionBytes)
	require.Equal(t, log.SyncNone, d.Config.Sync.Mode)
	require.Equal(t, log.CompressionNone, d.Config.Compression, "reset to the default")

	produceFrom(t, s, "orders", 0, 10, 1)
	got := pollN(t, c, 1)
	require.EqualValues(t, 10, got[0].Offset, "the consumer reads on from the reopened partition")

	produceInCalls(t, s, "orders", 0, 19, 1)
	p := describe(t, s, "orders").Partitions[0]
	require.Greater(t, p.Segments, 1, "the running partition rolls at the new segment.bytes")
	require.Positive(t, p.StartOffset, "and deletes by the new retention.bytes")
	require.Less(t, p.Bytes, int64(1000), "30 records take about 1700 bytes")

	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	d = describe(t, s, "orders")
	require.EqualValues(t, 200, d.Config.SegmentBytes)
	require.EqualValues(t, 400, d.Config.RetentionBytes)
	require.Equal(t, log.SyncNone, d.Config.Sync.Mode)
	require.Equal(t, log.CompressionNone, d.Config.Compression)
	require.EqualValues(t, 30, d.Partitions[0].EndOffset)
}

// TestAlterTopicConfigRefusesEveryBadFieldAndChangesNothing: one *ConfigError
// names every problem, and the topic keeps its config, on disk too.
func TestAlterTopicConfigRefusesEveryBadFieldAndChangesNothing(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{RetentionAge: time.Hour})
	before := describe(t, s, "orders").Config

	err := s.AlterTopicConfig(ctx, "orders", log.TopicConfig{
		Partitions: 3, ReplicationFactor: 2, SegmentBytes: -5, CleanupPolicy: "shred", MinCleanableDirtyRatio: 2,
	}, "retention.weeks")
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	var ce *log.ConfigError
	require.True(t, errors.As(err, &ce))
	require.Len(t, ce.Problems, 6, "%v", ce.Problems)
	for i, field := range []string{"Partitions", "ReplicationFactor", "SegmentBytes", "CleanupPolicy", "MinCleanableDirtyRatio", "retention.weeks"} {
		require.Contains(t, ce.Problems[i], field+": ")
	}

	// Checked once merged with the topic's settings: sync.interval.ms without a
	// periodic sync, a min.insync.replicas above the replication factor.
	err = s.AlterTopicConfig(ctx, "orders", log.TopicConfig{Sync: log.SyncPolicy{Interval: time.Second}, MinInsyncReplicas: 2})
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	require.ErrorContains(t, err, "Sync: EveryRecords and Interval apply only to SyncPeriodic")
	err = s.AlterTopicConfig(ctx, "orders", log.TopicConfig{MinInsyncReplicas: 2})
	require.ErrorContains(t, err, "MinInsyncReplicas: 2, above the ReplicationFactor 1")

	require.ErrorIs(t, s.AlterTopicConfig(ctx, "nope", log.TopicConfig{SegmentBytes: 1000}), log.ErrUnknownTopic)
	require.NoError(t, s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 0}}))
	require.ErrorIs(t, s.AlterTopicConfig(ctx, log.OffsetsTopic, log.TopicConfig{SegmentBytes: 1000}), log.ErrInternalTopic)

	require.Equal(t, before, describe(t, s, "orders").Config)
	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	require.Equal(t, before, describe(t, s, "orders").Config)
}

// TestAlterTopicConfigSyncPolicy: a periodic topic's interval alone can change,
// and a mode other than periodic drops the periodic details.
func TestAlterTopicConfigSyncPolicy(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	ctx := testContext(t)
	createTopic(t, s, "t", log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 10}})
	require.NoError(t, s.AlterTopicConfig(ctx, "t", log.TopicConfig{Sync: log.SyncPolicy{Interval: time.Second}}))
	require.Equal(t, log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 10, Interval: time.Second}, describe(t, s, "t").Config.Sync)
	require.NoError(t, s.AlterTopicConfig(ctx, "t", log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncEveryAppend}}))
	require.Equal(t, log.SyncPolicy{Mode: log.SyncEveryAppend}, describe(t, s, "t").Config.Sync)
	require.NoError(t, s.AlterTopicConfig(ctx, "t", log.TopicConfig{}, log.ConfigSync))
	require.Equal(t, log.SyncPolicy{Mode: log.SyncEveryAppend}, describe(t, s, "t").Config.Sync, "the default")
}

// TestAlterTopicConfigCleanupPolicyAtOnce: a topic made compacted refuses
// records without a key from then on.
func TestAlterTopicConfigCleanupPolicyAtOnce(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	ctx := testContext(t)
	createTopic(t, s, "t", log.TopicConfig{})
	produce(t, s, "t", 0, 1)
	require.NoError(t, s.AlterTopicConfig(ctx, "t", log.TopicConfig{CleanupPolicy: log.CleanupCompact}))
	err := s.Produce(ctx, &log.Record{Topic: "t", Value: []byte("no key")})
	require.ErrorIs(t, err, log.ErrInvalidArgument)
	require.NoError(t, s.Produce(ctx, &log.Record{Topic: "t", Key: []byte("k"), Value: []byte("v")}))
}

// TestReplicatedAlterTopicConfig: in a store of several brokers, a raised
// min.insync.replicas holds acks=all produces at once, and the change is in
// topics.json after a reopen.
func TestReplicatedAlterTopicConfig(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	require.NoError(t, s.StopBroker(2))
	require.NoError(t, s.Produce(ctx, &log.Record{Topic: "orders", Value: []byte("x")}))
	require.NoError(t, s.AlterTopicConfig(ctx, "orders", log.TopicConfig{MinInsyncReplicas: 3, RetentionAge: time.Hour}))
	err := s.Produce(ctx, &log.Record{Topic: "orders", Value: []byte("y")})
	require.ErrorIs(t, err, replica.ErrNotEnoughReplicas)
	err = s.AlterTopicConfig(ctx, "orders", log.TopicConfig{MinInsyncReplicas: 4})
	require.ErrorIs(t, err, log.ErrInvalidConfig)

	require.NoError(t, s.StartBroker(2))
	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	d := describe(t, s, "orders")
	require.Equal(t, 3, d.Config.MinInsyncReplicas)
	require.Equal(t, time.Hour, d.Config.RetentionAge)
}

// TestParseTopicConfigs: every bad config at once, each named; Configs reads
// back into the same TopicConfig.
func TestParseTopicConfigs(t *testing.T) {
	_, err := log.ParseTopicConfigs(map[string]string{
		"retention.ms": "0", "segment.bytes": "abc", "compression.type": "lz4", "nope": "1", "sync": "always",
		"min.cleanable.dirty.ratio": "1.5", "unclean.leader.election.enable": "yes",
	})
	var ce *log.ConfigError
	require.True(t, errors.As(err, &ce))
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	require.Len(t, ce.Problems, 7, "%v", ce.Problems)
	for _, want := range []string{
		`compression.type: "lz4": lz4 is not supported`, `min.cleanable.dirty.ratio: "1.5": want a number above 0 and at most 1`,
		`nope: "1": unknown config`, `retention.ms: "0": want a number above 0, or -1 for no limit`,
		`segment.bytes: "abc": not an integer`, `sync: "always": want every-append, periodic or none`,
		`unclean.leader.election.enable: "yes": want true or false`,
	} {
		require.ErrorContains(t, err, want)
	}

	configs := map[string]string{
		"cleanup.policy": "compact,delete", "compression.type": "zstd", "delete.retention.ms": "-1",
		"max.message.bytes": "2048", "min.cleanable.dirty.ratio": "0.25", "min.compaction.lag.ms": "1000",
		"min.insync.replicas": "2", "retention.bytes": "-1", "retention.ms": "60000", "segment.bytes": "65536",
		"segment.ms": "3600000", "sync": "periodic", "sync.interval.ms": "250", "sync.records": "100",
		"unclean.leader.election.enable": "true",
	}
	c, err := log.ParseTopicConfigs(configs)
	require.NoError(t, err)
	require.Equal(t, log.TopicConfig{
		CleanupPolicy: log.CleanupCompactDelete, Compression: log.CompressionZstd, DeleteRetention: log.Unlimited,
		MaxBatchBytes: 2048, MinCleanableDirtyRatio: 0.25, MinCompactionLag: time.Second, MinInsyncReplicas: 2,
		RetentionBytes: log.Unlimited, RetentionAge: time.Minute, SegmentBytes: 65536, SegmentAge: time.Hour,
		Sync:                  log.SyncPolicy{Mode: log.SyncPeriodic, Interval: 250 * time.Millisecond, EveryRecords: 100},
		UncleanLeaderElection: true,
	}, c)
	require.Equal(t, configs, c.Configs())
	require.Len(t, log.TopicConfigNames(), len(configs), "every name is in the round trip")
	for _, name := range log.TopicConfigNames() {
		require.Contains(t, configs, name)
	}
	name, ok := log.TopicConfigName("RetentionAge")
	require.True(t, ok)
	require.Equal(t, log.ConfigRetentionMs, name)
	_, ok = log.TopicConfigName("Partitions")
	require.False(t, ok)
}
