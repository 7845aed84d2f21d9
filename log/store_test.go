package log_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
	require.NoError(t, err)
	createTopic(t, s, "t", log.TopicConfig{})
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	ctx := context.Background()
	require.ErrorIs(t, s.CreateTopic(ctx, "u", log.TopicConfig{}), log.ErrClosed)
	require.ErrorIs(t, s.Produce(ctx, &log.Record{Topic: "t"}), log.ErrClosed)
	_, err = s.ListTopics()
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.DescribeTopic("t")
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.NewProducer(log.ProducerOptions{})
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.NewConsumer(log.ConsumerOptions{})
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.ApplyRetention()
	require.ErrorIs(t, err, log.ErrClosed)
	require.Empty(t, s.Stats().Topics)
}

// One store per directory: a second Open fails at once, and succeeds after Close.
func TestSecondOpenOfLockedDirectory(t *testing.T) {
	for _, fs := range []struct {
		name string
		fsys vfs.FS
		dir  string
	}{
		{"mem", vfs.NewMem(), "/data"},
		{"os", vfs.OS, t.TempDir()},
	} {
		t.Run(fs.name, func(t *testing.T) {
			first, err := log.Open(fs.dir, &log.Options{FS: fs.fsys})
			require.NoError(t, err)
			second, err := log.Open(fs.dir, &log.Options{FS: fs.fsys})
			require.ErrorIs(t, err, log.ErrLocked)
			require.ErrorIs(t, err, vfs.ErrLocked)
			require.Nil(t, second)
			require.NoError(t, first.Close())
			third, err := log.Open(fs.dir, &log.Options{FS: fs.fsys})
			require.NoError(t, err)
			require.NoError(t, third.Close())
		})
	}
}

// Topics, their own settings, partition counts, end offsets and start offsets
// survive a restart; settings the topic did not choose follow the new defaults.
func TestRestartPersistence(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := context.Background()
	s, err := log.Open("/data", &log.Options{FS: fsys, TopicDefaults: log.TopicConfig{RetentionAge: time.Hour}})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, Compression: log.CompressionGzip, SegmentBytes: 4096,
		Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 100, Interval: time.Minute}})
	createTopic(t, s, "audit", log.TopicConfig{RetentionAge: 48 * time.Hour, RetentionBytes: log.Unlimited})
	require.NoError(t, s.AddPartitions(ctx, "audit", 3))
	produceInCalls(t, s, "orders", 0, 300, 10)
	produce(t, s, "orders", 1, 5)
	produce(t, s, "audit", 2, 7)
	require.NoError(t, s.DeleteRecords(ctx, tp("orders", 0), 250))
	before := describe(t, s, "orders")
	require.Greater(t, before.Partitions[0].Segments, 1)
	require.Equal(t, int64(250), before.Partitions[0].StartOffset)
	require.NoError(t, s.Close())

	s = openStore(t, fsys, &log.Options{TopicDefaults: log.TopicConfig{RetentionAge: 2 * time.Hour, MaxBatchBytes: 1 << 16}})
	topics, err := s.ListTopics()
	require.NoError(t, err)
	require.Equal(t, []string{"audit", "orders"}, topics)

	orders := describe(t, s, "orders")
	require.Equal(t, before.Partitions, orders.Partitions)
	require.Equal(t, log.CompressionGzip, orders.Config.Compression)
	require.Equal(t, int64(4096), orders.Config.SegmentBytes)
	require.Equal(t, log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 100, Interval: time.Minute}, orders.Config.Sync)
	require.Equal(t, 2*time.Hour, orders.Config.RetentionAge, "inherited: follows the new default")
	require.Equal(t, 1<<16, orders.Config.MaxBatchBytes)

	audit := describe(t, s, "audit")
	require.Len(t, audit.Partitions, 3)
	require.Equal(t, int64(7), audit.Partitions[2].EndOffset)
	require.Equal(t, 48*time.Hour, audit.Config.RetentionAge, "the topic's own setting")
	require.Equal(t, int64(log.Unlimited), audit.Config.RetentionBytes)

	// The records are all there, from the persisted start offset.
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Assign(tp("orders", 0)))
	records := pollN(t, c, 50)
	require.Equal(t, int64(250), records[0].Offset)
	require.Equal(t, value("orders", 250), records[0].Value)
}

// Open never removes a directory because topics.json does not list it: directories
// named like partitions but unlisted and unmarked (a user's backup-1/, a partition
// beyond the count, a topic lost from the metadata) stay, logged at Warn; a listed
// partition whose directory is missing is offline, not silently made again empty;
// only strata's own temporary files go. CreateTopic over such a name is refused.
func TestOpenLeavesUnmarkedDirectories(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, "kept", log.TopicConfig{Partitions: 2})
	produce(t, s, "kept", 0, 3)
	require.NoError(t, s.Close())

	require.NoError(t, fsys.MkdirAll("/data/ghost-0", 0o755))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/ghost-0/00000000000000000000.log", []byte("x")))
	require.NoError(t, fsys.MkdirAll("/data/backup-1", 0o755))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/backup-1/precious", []byte("y")))
	require.NoError(t, fsys.MkdirAll("/data/kept-2", 0o755))
	require.NoError(t, fsys.RemoveAll("/data/kept-1"))
	require.NoError(t, fsys.MkdirAll("/data/notes", 0o755))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/README-1", []byte("a file, not a directory")))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json.tmp", []byte("{half")))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/recovery-points.checkpoint.tmp", []byte("strata-recovery")))

	var logs logBuffer
	s = openStore(t, fsys, &log.Options{Logger: logs.logger()})
	entries, err := fsys.ReadDir("/data")
	require.NoError(t, err)
	require.Equal(t, []string{".lock", "README-1", "backup-1", "ghost-0", "kept-0", "kept-2", "notes", "recovery-points.checkpoint", "topics.json"}, entries)
	for _, name := range []string{"backup-1", "ghost-0", "kept-2"} {
		require.Contains(t, logs.String(), "level=WARN msg=\"leaving alone a directory named like a partition that topics.json does not list\" path=/data/"+name)
	}
	d := describe(t, s, "kept")
	require.Equal(t, int64(3), d.Partitions[0].EndOffset)
	require.ErrorIs(t, d.Partitions[1].Offline, log.ErrPartitionOffline)
	require.ErrorIs(t, d.Partitions[1].Offline, log.ErrCorrupt)
	require.ErrorContains(t, d.Partitions[1].Offline, "partition directory missing")

	err = s.CreateTopic(context.Background(), "ghost", log.TopicConfig{})
	require.ErrorIs(t, err, log.ErrPartitionDirExists)
	require.ErrorContains(t, err, "/data/ghost-0")
	data, err := vfs.ReadFile(fsys, "/data/ghost-0/00000000000000000000.log")
	require.NoError(t, err)
	require.Equal(t, "x", string(data))
	_, err = s.DescribeTopic("ghost")
	require.ErrorIs(t, err, log.ErrUnknownTopic, "nothing changed")
}

// A directory with partition directories but no topics.json is not a store: Open
// refuses it rather than deleting anything.
func TestOpenRefusesForeignPartitionDirectories(t *testing.T) {
	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll("/data/orders-0", 0o755))
	_, err := log.Open("/data", &log.Options{FS: fsys})
	require.ErrorIs(t, err, log.ErrCorrupt)
	require.ErrorContains(t, err, "orders-0")
	_, err = fsys.Stat("/data/orders-0")
	require.NoError(t, err)
	// The lock was released.
	require.NoError(t, fsys.RemoveAll("/data/orders-0"))
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestOpenRefusesCorruptMetadata(t *testing.T) {
	for name, content := range map[string]string{
		"not json":            "{",
		"unknown version":     `{"version": 9, "topics": []}`,
		"unknown field":       `{"version": 1, "topics": [], "extra": 1}`,
		"bad name":            `{"version": 1, "topics": [{"name": "../x", "partitions": 1, "config": {}}]}`,
		"duplicate":           `{"version": 1, "topics": [{"name": "a", "partitions": 1, "config": {}}, {"name": "a", "partitions": 1, "config": {}}]}`,
		"zero partitions":     `{"version": 1, "topics": [{"name": "a", "partitions": 0, "config": {}}]}`,
		"bad config":          `{"version": 1, "topics": [{"name": "a", "partitions": 1, "config": {"compression": "lz4"}}]}`,
		"bad duration":        `{"version": 1, "topics": [{"name": "a", "partitions": 1, "config": {"retention.age": "soon"}}]}`,
		"unknown syncmode":    `{"version": 1, "topics": [{"name": "a", "partitions": 1, "config": {"sync.mode": "often"}}]}`,
		"unknown partitioner": `{"version": 1, "topics": [{"name": "a", "partitions": 1, "partitioner": "crc32", "config": {}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			fsys := vfs.NewMem()
			require.NoError(t, fsys.MkdirAll("/data", 0o755))
			require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", []byte(content)))
			_, err := log.Open("/data", &log.Options{FS: fsys})
			require.ErrorIs(t, err, log.ErrCorrupt)
		})
	}
}

// The metadata file is readable JSON in the documented format: version 4, a
// topic's ID and own settings under Kafka's config names, then a last line with the
// CRC-32C of every byte before it.
func TestMetadataFormat(t *testing.T) {
	dir := t.TempDir()
	s, err := log.Open(dir, &log.Options{TopicDefaults: log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncNone}}})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, RetentionAge: 7 * 24 * time.Hour, RetentionBytes: log.Unlimited})
	require.NoError(t, s.Close())
	data, err := os.ReadFile(filepath.Join(dir, "topics.json"))
	require.NoError(t, err)
	body, sumLine := splitChecksumLine(t, data)
	require.Equal(t, fmt.Sprintf("crc32c %08x", crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))), sumLine)
	id, err := log.ParseTopicID(regexp.MustCompile(`"topicId": "([^"]*)"`).FindStringSubmatch(string(body))[1])
	require.NoError(t, err)
	require.JSONEq(t, `{
		"version": 4,
		"topics": [
			{"name": "orders", "topicId": "`+id.String()+`", "partitions": 2, "partitioner": "murmur2", "config": {"retention.bytes": "-1", "retention.ms": "604800000"}}
		]
	}`, string(body))
}

// splitChecksumLine splits topics.json into the JSON and its last line.
func splitChecksumLine(t *testing.T, data []byte) (body []byte, last string) {
	t.Helper()
	trimmed := bytes.TrimSuffix(data, []byte("\n"))
	require.Len(t, data, len(trimmed)+1, "ends in a newline")
	i := bytes.LastIndexByte(trimmed, '\n')
	require.Positive(t, i)
	return data[:i+1], string(trimmed[i+1:])
}
