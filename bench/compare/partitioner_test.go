package compare

import (
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratalog/strata/log"
)

// strata's default key partitioning is Kafka's as franz-go's kgo computes it (its
// default, StickyKeyPartitioner with KafkaHasher(murmur2)): a key produced in
// process and by a kgo client lands in the same partition, for keys of every
// length (murmur2 folds the last one to three bytes apart) and partition counts.
// Not a benchmark: a cross-check that needs kgo, which only this module imports.
func TestKeyPartitionIsKgos(t *testing.T) {
	kgoTopic := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		key := make([]byte, i%67)
		for j := range key {
			key[j] = byte(rng.IntN(256))
		}
		for _, n := range []int{1, 2, 3, 6, 7, 12, 100, 1000} {
			want := kgoTopic.Partition(&kgo.Record{Key: key}, n)
			if got := log.KeyPartition(key, n); got != want {
				t.Fatalf("key %x, %d partitions: strata %d, kgo %d", key, n, got, want)
			}
		}
	}
	for _, key := range []string{"", "alice", "customer-7", "21", "foobar"} {
		if got, want := log.KeyPartition([]byte(key), 3), kgoTopic.Partition(&kgo.Record{Key: []byte(key)}, 3); got != want {
			t.Fatalf("key %q: strata %d, kgo %d", key, got, want)
		}
	}
}
