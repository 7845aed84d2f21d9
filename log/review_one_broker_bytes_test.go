package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A one-broker store writes the topics.json it wrote before stores of several
// brokers existed, byte for byte: the offsets topic, made at the first group commit,
// carries no replication settings (they would be the defaults anyway).
func TestOneBrokerStoreOffsetsTopicMetadataUnchanged(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	require.NoError(t, s.CommitGroupOffsets(context.Background(), "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 0}}))
	require.NoError(t, s.Close())
	data, err := vfs.ReadFile(fsys, "/data/topics.json")
	require.NoError(t, err)
	// Written by the code before stores of several brokers (2c7ba62).
	require.Equal(t, `{
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
`, string(data))
}
