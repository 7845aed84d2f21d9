package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// A broker whose disk is away while a topic is deleted and made again under its
// name keeps the deleted topic's replica directory: when the disk comes back, that
// directory must not pass for the new topic's replica (same name, same leader
// epochs from 0), nor its records be served as the new topic's.
func TestReplicatedReplicaOfADeletedTopicIsNotTheNewTopics(t *testing.T) {
	fsys := vfs.NewMem()
	opts := &log.Options{RetentionCheckInterval: -1}
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	for range 10 {
		produceValue(t, s, "orders", "old")
	}
	require.NoError(t, s.Close())

	require.NoError(t, fsys.Rename("/data/broker.2", "/away")) // its disk unmounted
	s2 := openStore(t, fsys, opts)
	require.NoError(t, s2.DeleteTopic(testContext(t), "orders"))
	createTopic(t, s2, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	for range 3 {
		produceValue(t, s2, "orders", "new")
	}
	require.NoError(t, s2.Close())

	require.NoError(t, fsys.Rename("/away", "/data/broker.2")) // back
	s3 := openStore(t, fsys, opts)
	require.NoError(t, s3.AwaitInSync(testContext(t)))
	// Broker 2 alone leads: whatever it serves must be the new topic's.
	for _, b := range []replica.BrokerID{0, 1} {
		require.NoError(t, s3.StopBroker(b))
	}
	require.Equal(t, replica.BrokerID(2), describe(t, s3, "orders").Partitions[0].Leader)
	require.Equal(t, []string{"new", "new", "new"}, consumeValues(t, s3, "orders", 0))
}

func produceValue(t *testing.T, s *log.Store, topic, v string) {
	t.Helper()
	require.NoError(t, s.Produce(testContext(t), &log.Record{Topic: topic, Partition: 0, ExplicitPartition: true, Value: []byte(v)}))
}
