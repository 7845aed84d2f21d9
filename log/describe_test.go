package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// DescribeTopic names each topic's key partitioner: murmur2 for a topic created
// now (in a store of one broker or several), xxhash for one created before strata
// partitioned keys as Kafka does, none for an internal topic.
func TestDescribeTopicKeyPartitioner(t *testing.T) {
	fsys := storeWithOrdersAndOffsets(t)
	s := openStore(t, fsys, nil)
	require.Equal(t, log.KeyPartitionerMurmur2, describe(t, s, "orders").KeyPartitioner)
	offsets := describe(t, s, log.OffsetsTopic)
	require.True(t, offsets.Internal)
	require.Empty(t, offsets.KeyPartitioner)
	require.NoError(t, s.Close())

	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", []byte(legacyTopicsJSON)))
	asOlderStore(t, fsys, "/data")
	s = openStore(t, fsys, nil)
	require.Equal(t, log.KeyPartitionerXXHash, describe(t, s, "orders").KeyPartitioner)
	createTopic(t, s, "payments", log.TopicConfig{})
	require.Equal(t, log.KeyPartitionerMurmur2, describe(t, s, "payments").KeyPartitioner)
	require.NoError(t, s.Close())

	s = openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3})
	require.Equal(t, log.KeyPartitionerMurmur2, describe(t, s, "orders").KeyPartitioner)
}
