package log_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// Every setting of a topic survives topics.json, to the nanosecond and up to its
// limits, and a setting left at zero stays inherited: reopened with other store
// defaults, the topic follows them.
func TestMetadataKeepsEveryTopicConfig(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	every := log.TopicConfig{
		Partitions:   2,
		Sync:         log.SyncPolicy{Mode: log.SyncPeriodic, Interval: 1500 * time.Microsecond, EveryRecords: math.MaxInt},
		SegmentBytes: 1 << 20, SegmentAge: time.Hour + time.Nanosecond, RetentionBytes: log.Unlimited, RetentionAge: 7 * 24 * time.Hour,
		Compression: log.CompressionSnappy, MaxBatchBytes: 4096, CleanupPolicy: "delete,compact",
		DeleteRetention: log.Unlimited, MinCleanableDirtyRatio: 0.1, MinCompactionLag: 999 * time.Microsecond,
		ReplicationFactor: 1, MinInsyncReplicas: 1, UncleanLeaderElection: true,
	}
	createTopic(t, s, "every", every)
	createTopic(t, s, "none", log.TopicConfig{})
	require.NoError(t, s.Close())

	for _, defaults := range []log.TopicConfig{
		{},
		{
			Sync: log.SyncPolicy{Mode: log.SyncNone}, SegmentBytes: 4096, SegmentAge: time.Minute, RetentionBytes: 1 << 30,
			RetentionAge: time.Hour, Compression: log.CompressionGzip, MaxBatchBytes: 2048, CleanupPolicy: log.CleanupCompact,
			DeleteRetention: time.Second, MinCleanableDirtyRatio: 0.9, MinCompactionLag: time.Minute, UncleanLeaderElection: true,
		},
	} {
		s := openStore(t, fsys, &log.Options{TopicDefaults: defaults})
		require.Equal(t, every, describe(t, s, "every").Config)
		got := describe(t, s, "none").Config
		if defaults == (log.TopicConfig{}) {
			require.Equal(t, log.TopicConfig{
				Partitions: 1, Sync: log.SyncPolicy{Mode: log.SyncEveryAppend}, SegmentBytes: log.DefaultSegmentBytes,
				SegmentAge: log.DefaultSegmentAge, RetentionBytes: log.Unlimited, RetentionAge: log.Unlimited,
				Compression: log.DefaultCompression, MaxBatchBytes: log.DefaultMaxBatchBytes, CleanupPolicy: log.DefaultCleanupPolicy,
				DeleteRetention: log.DefaultDeleteRetention, MinCleanableDirtyRatio: log.DefaultMinCleanableDirtyRatio,
				ReplicationFactor: 1, MinInsyncReplicas: 1,
			}, got)
		} else {
			inherited := defaults
			inherited.Partitions, inherited.ReplicationFactor, inherited.MinInsyncReplicas = 1, 1, 1
			require.Equal(t, inherited, got)
		}
		require.NoError(t, s.Close())
	}
	f := readTopicsFile(t, fsys, "/data/topics.json")
	require.Equal(t, "none", f.Topics[1].Name)
	require.Empty(t, f.Topics[1].Config, "nothing of its own")
	require.Equal(t, "1.5", f.Topics[0].Config[log.ConfigSyncIntervalMs])
	require.Equal(t, "0.999", f.Topics[0].Config[log.ConfigMinCompactionLagMs])
}

// A version-3 topics.json whose configs do not parse, or break a rule of
// TopicConfig, is corrupt; the error names the topic and the config.
func TestOpenRefusesCorruptTopicConfigs(t *testing.T) {
	for name, tc := range map[string]struct{ topic, want string }{
		"unknown config":           {`"config": {"retention.age": "168h0m0s"}`, `retention.age: "168h0m0s": unknown config`},
		"bad value":                {`"config": {"retention.ms": "soon"}`, `retention.ms: "soon": not an integer`},
		"zero":                     {`"config": {"segment.bytes": "0"}`, `segment.bytes: "0": want a number above 0`},
		"a number, not a string":   {`"config": {"segment.bytes": 1024}`, `cannot unmarshal number`},
		"periodic without a limit": {`"config": {"sync": "periodic"}`, `Sync: SyncPeriodic needs EveryRecords > 0 or Interval > 0`},
		"negative replication":     {`"replicationFactor": -1, "config": {}`, `ReplicationFactor: -1 not in [1, 255]`},
		"min.insync.replicas above the replication factor": {`"replicationFactor": 1, "config": {"min.insync.replicas": "2"}`, `MinInsyncReplicas: 2 not in [1, ReplicationFactor]`},
		"unknown key": {`"config": {}, "retention": "forever"`, `unknown field "retention"`},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := vfs.NewMem()
			require.NoError(t, fsys.MkdirAll("/data", 0o755))
			topic := `{"name": "a", "partitions": 1`
			if tc.topic != "" {
				topic += ", " + tc.topic
			}
			content := crcline.Append([]byte(`{"version": 3, "topics": [` + topic + "}]}\n"))
			require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", content))
			_, err := log.Open("/data", &log.Options{FS: fsys})
			require.ErrorIs(t, err, log.ErrCorrupt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// A config in topics.json whose value is its field's zero (written by hand:
// strata writes none) is no override: the topic inherits the store's default,
// and the next write leaves the config out.
func TestMetadataZeroConfigsInherit(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "t", log.TopicConfig{})
	require.NoError(t, s.Close())
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", crcline.Append([]byte(
		`{"version": 3, "topics": [{"name": "t", "partitions": 1, "partitioner": "murmur2", "config": {`+
			`"unclean.leader.election.enable": "false", "min.compaction.lag.ms": "0", "sync.records": "0"}}]}`+"\n"))))

	s = openStore(t, fsys, &log.Options{TopicDefaults: log.TopicConfig{UncleanLeaderElection: true, MinCompactionLag: time.Minute}})
	c := describe(t, s, "t").Config
	require.True(t, c.UncleanLeaderElection)
	require.Equal(t, time.Minute, c.MinCompactionLag)
	createTopic(t, s, "u", log.TopicConfig{})
	require.NoError(t, s.Close())
	f := readTopicsFile(t, fsys, "/data/topics.json")
	require.Equal(t, "t", f.Topics[0].Name)
	require.Empty(t, f.Topics[0].Config)
}
