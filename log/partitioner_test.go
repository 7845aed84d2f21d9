package log_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// kafkaMurmur2 holds the values of Kafka's Utils.murmur2 (a Java int) that
// Kafka's own UtilsTest.testMurmur2 pins.
var kafkaMurmur2 = []struct {
	key  string
	hash int32
}{
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
}

// KeyPartition is Kafka's BuiltInPartitioner.partitionForKey:
// toPositive(murmur2(key)) % numPartitions.
func TestKeyPartitionIsKafkas(t *testing.T) {
	for _, c := range kafkaMurmur2 {
		for _, n := range []int{1, 2, 3, 7, 12, 1000, math.MaxInt32} {
			want := int(c.hash&0x7fffffff) % n
			require.Equal(t, want, log.KeyPartition([]byte(c.key), n), "key %q n %d", c.key, n)
		}
	}
	// The empty key: murmur2 of no bytes is 275646681 (as commons-codec's
	// MurmurHash2.hash32 of no bytes, seeded as Kafka does, gives it).
	require.Equal(t, 275646681%10, log.KeyPartition(nil, 10))
}

// LegacyKeyPartition is XXH64 (seed 0) of the key, modulo the partition count:
// these values are reproducible by any XXH64 implementation.
func TestLegacyKeyPartitionFormula(t *testing.T) {
	// XXH64("") = 0xef46db3751d8e999, XXH64("a") = 0xd24ec4f1a98c6e5b.
	tests := []struct {
		key  string
		n    int
		want int
	}{
		{"", 1, 0},
		{"", 10, int(uint64(0xef46db3751d8e999) % 10)},
		{"a", 7, int(uint64(0xd24ec4f1a98c6e5b) % 7)},
		{"a", 1000, int(uint64(0xd24ec4f1a98c6e5b) % 1000)},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, log.LegacyKeyPartition([]byte(tt.key), tt.n), "key %q n %d", tt.key, tt.n)
	}
}

func TestDefaultPartitioner(t *testing.T) {
	p := log.NewDefaultPartitioner(1000)
	// Keyed: stable, and an empty key is a key.
	for _, key := range []string{"", "customer-1", "customer-2"} {
		r := &log.Record{Topic: "t", Key: []byte(key)}
		require.Equal(t, log.KeyPartition([]byte(key), 8), p.Partition(r, 8))
		require.Equal(t, p.Partition(r, 8), p.Partition(r, 8))
	}
	// Unkeyed: sticky for about 1000 bytes, then another partition.
	value := make([]byte, 100-36) // recordBound: 100 bytes a record
	first := p.Partition(&log.Record{Topic: "t", Value: value}, 8)
	for range 9 {
		require.Equal(t, first, p.Partition(&log.Record{Topic: "t", Value: value}, 8))
	}
	second := p.Partition(&log.Record{Topic: "t", Value: value}, 8)
	require.NotEqual(t, first, second)
	require.Equal(t, second, p.Partition(&log.Record{Topic: "t", Value: value}, 8))
	// Topics stick independently; one partition is always the answer for one.
	require.Equal(t, 0, p.Partition(&log.Record{Topic: "solo"}, 1))
}

// The default partitioner is used by Produce; an explicit partition wins.
func TestProducePartitioning(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 4})
	ctx := context.Background()
	keyed := &log.Record{Topic: "t", Key: []byte("k"), Value: []byte("v")}
	explicit := &log.Record{Topic: "t", Key: []byte("k"), Partition: 3, ExplicitPartition: true}
	if log.KeyPartition([]byte("k"), 4) == 3 {
		explicit.Partition = 2
	}
	require.NoError(t, s.Produce(ctx, keyed, explicit))
	require.Equal(t, int32(log.KeyPartition([]byte("k"), 4)), keyed.Partition)
	require.NotEqual(t, keyed.Partition, explicit.Partition)
	require.Equal(t, int64(0), explicit.Offset)
}

// fixedPartitioner sends everything to one partition (possibly invalid).
type fixedPartitioner int

func (f fixedPartitioner) Partition(*log.Record, int) int { return int(f) }

func TestCustomPartitioner(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{Partitioner: fixedPartitioner(2)})
	createTopic(t, s, "t", log.TopicConfig{Partitions: 3})
	createTopic(t, s, "small", log.TopicConfig{Partitions: 2})
	ctx := context.Background()
	r := &log.Record{Topic: "t", Key: []byte("k")}
	require.NoError(t, s.Produce(ctx, r))
	require.Equal(t, int32(2), r.Partition)
	// A partitioner's answer outside the topic fails the call before anything is
	// written.
	ok := &log.Record{Topic: "t"}
	err := s.Produce(ctx, ok, &log.Record{Topic: "small"})
	require.ErrorIs(t, err, log.ErrUnknownPartition)
	require.Equal(t, int64(1), describe(t, s, "t").Partitions[2].EndOffset)
}

// A store of several brokers records and keeps a topic's partitioner as a
// one-broker store does: a new topic partitions keys as Kafka does, in every
// broker's topics.json, and again after a reopen.
func TestReplicatedStorePartitionsKeysAsKafka(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 5, ReplicationFactor: 3})
	keys := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	check := func() {
		for _, k := range keys {
			r := &log.Record{Topic: "orders", Key: []byte(k), Value: []byte("v")}
			require.NoError(t, s.Produce(context.Background(), r))
			require.Equal(t, int32(log.KeyPartition([]byte(k), 5)), r.Partition, "key %q", k)
		}
	}
	check()
	require.NoError(t, s.Close())
	for _, dir := range []string{"/data", "/data/broker.1", "/data/broker.2"} {
		data, err := vfs.ReadFile(fsys, dir+"/topics.json")
		require.NoError(t, err)
		require.Contains(t, string(data), `"partitioner": "murmur2"`, dir)
	}
	s = openStore(t, fsys, nil)
	defer s.Close()
	check()
}
