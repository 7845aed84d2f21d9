package log_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// legacyTopicsJSON is the topics.json of a one-broker store written by the code
// before stores of several brokers (2c7ba62), and before strata partitioned keys
// as Kafka does: "orders" has no "partitioner" (XXH64).
const legacyTopicsJSON = `{
  "version": 2,
  "topics": [
    {
      "name": "__consumer_offsets",
      "partitions": 1,
      "internal": true,
      "config": {
        "sync.mode": "every-append",
        "segment.bytes": 104857600,
        "retention.bytes": -1,
        "retention.age": "unlimited",
        "compression": "none",
        "cleanup.policy": "compact"
      }
    },
    {
      "name": "orders",
      "partitions": 2,
      "config": {}
    }
  ]
}
crc32c 6e69b518
`

// storeWithOrdersAndOffsets returns the filesystem of a closed one-broker store
// holding "orders" (2 partitions) and the offsets topic of a group's commit.
func storeWithOrdersAndOffsets(t *testing.T) vfs.FS {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	require.NoError(t, s.CommitGroupOffsets(context.Background(), "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 0}}))
	require.NoError(t, s.Close())
	return fsys
}

// currentTopicsJSON is legacyTopicsJSON as a one-broker store writes it now: in
// version 4 (the offsets topic's settings under Kafka's config names, a topic ID
// for each topic, here masked by maskedTopicsJSON), and with the partitioner of
// the topics it creates; without its checksum line.
const currentTopicsJSON = `{
  "version": 4,
  "topics": [
    {
      "name": "__consumer_offsets",
      "topicId": "ID",
      "partitions": 1,
      "internal": true,
      "config": {
        "cleanup.policy": "compact",
        "compression.type": "none",
        "retention.bytes": "-1",
        "retention.ms": "-1",
        "segment.bytes": "104857600",
        "sync": "every-append"
      }
    },
    {
      "name": "orders",
      "topicId": "ID",
      "partitions": 2,
      "partitioner": "murmur2",
      "config": {}
    }
  ]
}
`

// maskedTopicsJSON returns the topics.json data without its checksum line (checked)
// and with every topic ID replaced by "ID".
func maskedTopicsJSON(t *testing.T, data []byte) string {
	t.Helper()
	body, _, err := crcline.Split("topics.json", data)
	require.NoError(t, err)
	return regexp.MustCompile(`"topicId": "[A-Za-z0-9_-]{22}"`).ReplaceAllString(string(body), `"topicId": "ID"`)
}

// A one-broker store writes the topics.json it wrote before stores of several
// brokers existed, but for the version (4, Kafka's config names, topic IDs) and the
// partitioner of the topics it creates: the offsets topic, made at the first group
// commit, carries no replication settings (they would be the defaults anyway) and
// no partitioner (strata places its records).
func TestOneBrokerStoreOffsetsTopicMetadataUnchanged(t *testing.T) {
	fsys := storeWithOrdersAndOffsets(t)
	data, err := vfs.ReadFile(fsys, "/data/topics.json")
	require.NoError(t, err)
	require.Equal(t, currentTopicsJSON, maskedTopicsJSON(t, data))
}

// A store written before strata partitioned keys as Kafka does keeps its topics'
// partitioner: opened (which gives its topics IDs and writes its topics.json in the
// current version, "orders" still without a partitioner), produced to, committed to
// and closed, a keyed record goes where the old code put it (LegacyKeyPartition). A
// topic created then partitions as Kafka does.
func TestOldStoreKeepsItsPartitioner(t *testing.T) {
	fsys := storeWithOrdersAndOffsets(t)
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", []byte(legacyTopicsJSON)))
	asOlderStore(t, fsys, "/data")

	// A key whose two partitions differ.
	key := []byte("k0")
	for i := 0; log.KeyPartition(key, 2) == log.LegacyKeyPartition(key, 2); i++ {
		key = fmt.Appendf(nil, "k%d", i)
	}
	s := openStore(t, fsys, nil)
	r := &log.Record{Topic: "orders", Key: key, Value: []byte("v")}
	require.NoError(t, s.Produce(context.Background(), r))
	require.Equal(t, int32(log.LegacyKeyPartition(key, 2)), r.Partition)
	p, err := s.NewProducer(log.ProducerOptions{})
	require.NoError(t, err)
	r2 := &log.Record{Topic: "orders", Key: key, Value: []byte("w")}
	var produceErr error
	p.Produce(context.Background(), r2, func(_ *log.Record, err error) { produceErr = err })
	require.NoError(t, p.Close())
	require.NoError(t, produceErr)
	require.Equal(t, r.Partition, r2.Partition)
	require.NoError(t, s.CommitGroupOffsets(context.Background(), "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 1}}))
	require.NoError(t, s.Close())
	data, err := vfs.ReadFile(fsys, "/data/topics.json")
	require.NoError(t, err)
	require.Contains(t, maskedTopicsJSON(t, data), `"name": "orders",
      "topicId": "ID",
      "partitions": 2,
      "config": {}`)

	s = openStore(t, fsys, nil)
	createTopic(t, s, "payments", log.TopicConfig{Partitions: 2})
	r = &log.Record{Topic: "payments", Key: key, Value: []byte("v")}
	require.NoError(t, s.Produce(context.Background(), r))
	require.Equal(t, int32(log.KeyPartition(key, 2)), r.Partition)
	r = &log.Record{Topic: "orders", Key: key, Value: []byte("v")}
	require.NoError(t, s.Produce(context.Background(), r))
	require.Equal(t, int32(log.LegacyKeyPartition(key, 2)), r.Partition)
	require.NoError(t, s.Close())
	data, err = vfs.ReadFile(fsys, "/data/topics.json")
	require.NoError(t, err)
	require.Contains(t, maskedTopicsJSON(t, data), `"name": "orders",
      "topicId": "ID",
      "partitions": 2,
      "config": {}`)
	require.Contains(t, maskedTopicsJSON(t, data), `"name": "payments",
      "topicId": "ID",
      "partitions": 2,
      "partitioner": "murmur2",`)
}
