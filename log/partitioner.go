package log

import (
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
// with a non-nil key:
//
//	int(xxhash.Sum64(key) % uint64(numPartitions))
//
// where xxhash.Sum64 is XXH64 with seed 0 (github.com/cespare/xxhash/v2), over the
// key's bytes. Any XXH64 implementation reproduces it. (Kafka's Java client uses
// murmur2 instead, so the same key may land on a different partition than in Kafka.)
func KeyPartition(key []byte, numPartitions int) int {
	return int(xxhash.Sum64(key) % uint64(numPartitions))
}

// DefaultPartitioner is the partitioner of a Store and of a Producer unless their
// options name another:
//
//   - a record with a non-nil key goes to KeyPartition(key, numPartitions), so the
//     records of a key stay in order in one partition (as long as the number of
//     partitions does not change);
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

// Partition implements Partitioner.
func (d *DefaultPartitioner) Partition(r *Record, numPartitions int) int {
	if r.Key != nil {
		return KeyPartition(r.Key, numPartitions)
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
