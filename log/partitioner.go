package log

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// DefaultBatchBytes is the default batch size of a Producer (ProducerOptions
// BatchBytes), and how many bytes the default partitioner sends to one partition
// before it moves on: Kafka's batch.size, 16 KiB.
const DefaultBatchBytes = 16 << 10

// Partitioner chooses the partition of a record whose ExplicitPartition is false.
// Implementations must be safe for concurrent use; a result outside
// [0, numPartitions) fails the record with ErrUnknownPartition.
type Partitioner interface {
	// Partition returns the partition of r, a record of topic r.Topic with
	// numPartitions partitions (at least 1).
	Partition(r *Record, numPartitions int) int
}

// KeyPartition returns the partition that the default partitioner gives a record
// with a non-nil key, as Kafka's Java client (BuiltInPartitioner.partitionForKey)
// and franz-go's kgo (its default StickyKeyPartitioner) compute it:
//
//	int(murmur2(key) & 0x7fffffff) % numPartitions
//
// where murmur2 is Kafka's Utils.murmur2: 32-bit MurmurHash2 with seed 0x9747b28c,
// over the key's bytes, read as a signed int and made positive by clearing the sign
// bit (Utils.toPositive). A record produced in process and one produced by a Kafka
// client thus put the same key in the same partition.
//
// Topics created before strata partitioned keys as Kafka does keep their
// partitioner (topics.json records it): for them the default partitioner uses
// LegacyKeyPartition, so a key stays in the partition that holds its records.
func KeyPartition(key []byte, numPartitions int) int {
	return int(murmur2(key)&0x7fffffff) % numPartitions
}

// LegacyKeyPartition returns the partition that the default partitioner gives a
// record with a non-nil key in a topic created before strata used KeyPartition
// (a topic without "partitioner" in topics.json):
//
//	int(xxhash.Sum64(key) % uint64(numPartitions))
//
// where xxhash.Sum64 is XXH64 with seed 0 (github.com/cespare/xxhash/v2), over the
// key's bytes. Any XXH64 implementation reproduces it.
func LegacyKeyPartition(key []byte, numPartitions int) int {
	return int(xxhash.Sum64(key) % uint64(numPartitions))
}

// murmur2 is Kafka's Utils.murmur2: MurmurHash2, 32 bits, seed 0x9747b28c, the
// bytes read four at a time little-endian, the last one to three folded in.
func murmur2(data []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	h := uint32(seed) ^ uint32(len(data))
	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// keyHash is how a topic's default partitioner maps a key to a partition, recorded
// in topics.json ("partitioner") so that a topic keeps it for its life.
type keyHash uint8

const (
	// keyHashXXHash is LegacyKeyPartition: topics created before strata
	// partitioned keys as Kafka does, whose topics.json entry has no
	// "partitioner" (and keeps none, so that their bytes do not change).
	keyHashXXHash keyHash = iota
	// keyHashMurmur2 is KeyPartition, Kafka's: every topic created since.
	keyHashMurmur2
)

// Format: the values of "partitioner" in topics.json; keyHashXXHash is the
// field's absence.
var keyHashNames = map[keyHash]string{keyHashXXHash: "", keyHashMurmur2: "murmur2"}

// parseKeyHash returns the keyHash of a "partitioner" value of topics.json.
func parseKeyHash(name string) (keyHash, bool) {
	for h, n := range keyHashNames {
		if n == name {
			return h, true
		}
	}
	return 0, false
}

// partition returns the partition of key among numPartitions.
func (h keyHash) partition(key []byte, numPartitions int) int {
	if h == keyHashXXHash {
		return LegacyKeyPartition(key, numPartitions)
	}
	return KeyPartition(key, numPartitions)
}

// DefaultPartitioner is the partitioner of a Store and of a Producer unless their
// options name another:
//
//   - a record with a non-nil key goes to KeyPartition(key, numPartitions), Kafka's
//     murmur2 partition, so the records of a key stay in order in one partition (as
//     long as the number of partitions does not change); in a topic created before
//     strata used murmur2, to LegacyKeyPartition(key, numPartitions) (as Store.Produce
//     and a Producer call it; Partition, called directly or by a Partitioner that
//     wraps or embeds it, knows no topic and uses KeyPartition);
//   - a record with a nil key goes to the topic's current sticky partition (Kafka's
//     sticky partitioner, KIP-480): the first is chosen at random, and once the
//     sticky bytes given to NewDefaultPartitioner were sent to it the partitioner
//     moves to another, chosen at random among the rest. Unkeyed records thus fill
//     whole batches instead of spreading one record per partition.
//
// It is safe for concurrent use.
type DefaultPartitioner struct {
	stickyBytes int
	mu          sync.Mutex
	sticky      map[string]*stickyState // by topic
}

// stickyState is a topic's current sticky partition and the bytes sent to it.
type stickyState struct {
	partition     int
	numPartitions int
	bytes         int
}

// NewDefaultPartitioner returns a DefaultPartitioner that moves unkeyed records to a
// new partition after stickyBytes (DefaultBatchBytes if <= 0).
func NewDefaultPartitioner(stickyBytes int) *DefaultPartitioner {
	if stickyBytes <= 0 {
		stickyBytes = DefaultBatchBytes
	}
	return &DefaultPartitioner{stickyBytes: stickyBytes, sticky: map[string]*stickyState{}}
}

// Partition implements Partitioner, for a topic that partitions keys as Kafka
// does (KeyPartition).
func (d *DefaultPartitioner) Partition(r *Record, numPartitions int) int {
	return d.partitionWith(r, numPartitions, keyHashMurmur2)
}

// partitionWith is Partition in a topic whose keys go by keys.
func (d *DefaultPartitioner) partitionWith(r *Record, numPartitions int, keys keyHash) int {
	if r.Key != nil {
		return keys.partition(r.Key, numPartitions)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sticky[r.Topic]
	if s == nil {
		s = &stickyState{}
		d.sticky[r.Topic] = s
	}
	switch {
	case s.numPartitions != numPartitions:
		*s = stickyState{partition: rand.IntN(numPartitions), numPartitions: numPartitions}
	case s.bytes >= d.stickyBytes:
		s.bytes = 0
		if numPartitions > 1 {
			s.partition = (s.partition + 1 + rand.IntN(numPartitions-1)) % numPartitions
		}
	}
	s.bytes += recordBound(r.Key, r.Value, r.Headers)
	return s.partition
}

// newTopicKeyHash returns the keyHash of a topic being created: Kafka's, except for
// an internal topic, whose records strata places itself and whose topics.json entry
// thus keeps the bytes it had before strata used murmur2.
func newTopicKeyHash(internal bool) keyHash {
	if internal {
		return keyHashXXHash
	}
	return keyHashMurmur2
}
