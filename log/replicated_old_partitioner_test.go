package log_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A store of several brokers written before strata partitioned keys as Kafka does
// (no "partitioner" in any broker's topics.json) keeps its topic's partitioner
// through produces (Store.Produce and a Producer), AddPartitions made while a
// broker is away, that broker's return and a reopen: every keyed record goes where
// LegacyKeyPartition puts it, and no copy of topics.json gains "partitioner".
func TestReplicatedOldStoreKeepsItsPartitioner(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 3})
	require.NoError(t, s.Close())
	dirs := []string{"/data", "/data/broker.1", "/data/broker.2"}
	for _, dir := range dirs {
		data, err := vfs.ReadFile(fsys, dir+"/topics.json")
		require.NoError(t, err)
		body, found, err := crcline.Split(dir+"/topics.json", data)
		require.NoError(t, err)
		require.True(t, found)
		old := bytes.Replace(body, []byte(`      "partitioner": "murmur2",`+"\n"), nil, 1)
		require.NotEqual(t, body, old, dir)
		require.NoError(t, vfs.WriteFileAtomic(fsys, dir+"/topics.json", crcline.Append(old)))
	}

	var keys [][]byte // keys that Kafka's partitioner puts elsewhere, for 2 and 3 partitions
	for i := 0; len(keys) < 8; i++ {
		k := fmt.Appendf(nil, "k%d", i)
		if log.KeyPartition(k, 2) != log.LegacyKeyPartition(k, 2) && log.KeyPartition(k, 3) != log.LegacyKeyPartition(k, 3) {
			keys = append(keys, k)
		}
	}
	check := func(s *log.Store, n int) {
		t.Helper()
		p, err := s.NewProducer(log.ProducerOptions{})
		require.NoError(t, err)
		for _, k := range keys {
			r := &log.Record{Topic: "orders", Key: k, Value: []byte("v")}
			require.NoError(t, s.Produce(context.Background(), r))
			require.Equal(t, int32(log.LegacyKeyPartition(k, n)), r.Partition, "key %q", k)
			r2 := &log.Record{Topic: "orders", Key: k, Value: []byte("w")}
			p.Produce(context.Background(), r2, func(_ *log.Record, err error) { require.NoError(t, err) })
			require.NoError(t, p.Flush(context.Background()))
			require.Equal(t, r.Partition, r2.Partition, "key %q", k)
		}
		require.NoError(t, p.Close())
	}
	s = openStore(t, fsys, nil)
	check(s, 2)
	require.NoError(t, s.StopBroker(2))
	require.NoError(t, s.AddPartitions(context.Background(), "orders", 3))
	check(s, 3)
	require.NoError(t, s.StartBroker(2))
	createTopic(t, s, "payments", log.TopicConfig{Partitions: 3, ReplicationFactor: 3})
	check(s, 3)
	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	check(s, 3)
	require.NoError(t, s.Close())
	for _, dir := range dirs {
		data, err := vfs.ReadFile(fsys, dir+"/topics.json")
		require.NoError(t, err)
		require.Equal(t, 1, bytes.Count(data, []byte(`"partitioner"`)), "%s: only payments has one:\n%s", dir, data)
	}
}
