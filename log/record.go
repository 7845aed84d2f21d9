package log

import (
	"time"

	"github.com/stratalog/strata/internal/topicpartition"
	"github.com/stratalog/strata/partition"
)

// Record is one record, as produced and as consumed: the fields a franz-go (kgo)
// user knows, plus ExplicitPartition.
type Record struct {
	// Topic names the topic: required when producing.
	Topic string
	// Partition is the record's partition. Producing sets it, from the partitioner,
	// unless ExplicitPartition is true: then it names the partition to write to.
	Partition int32
	// ExplicitPartition says that Partition was chosen by the caller: the record goes
	// to that partition and the partitioner is not asked. It is a separate flag so
	// that the zero Record (Partition 0) is partitioned by its key, as kgo's default
	// partitioner does. Consumed records have it false.
	ExplicitPartition bool
	// Offset is the record's offset in its partition. Producing sets it once the
	// record is written; records not written keep -1.
	Offset int64
	// Key is nil for a null key: such records are spread by the sticky partitioner.
	// A non-nil key, even empty, is hashed (see KeyPartition).
	Key []byte
	// Value is nil for a null value (a tombstone, for compacted topics).
	Value []byte
	// Headers are optional key/value pairs.
	Headers []Header
	// Timestamp is the record's create time, kept to the millisecond. Producing sets
	// a zero Timestamp to the store's clock.
	Timestamp time.Time
}

// Header is a record header: a key and a value that may be nil.
type Header = partition.Header

// TopicPartition names one partition of a topic: Topic and Partition, and String
// returns "topic-partition", the name of the partition's directory. It is one type
// in every layer (group.TopicPartition is the same), so that assignments,
// committed offsets and events need no conversion.
type TopicPartition = topicpartition.TopicPartition

// recordBound is an upper bound of the bytes a record takes in an uncompressed batch:
// key, value and header bytes, plus the varints around them (5 bytes per 32-bit
// length, 10 for the timestamp delta, 1 for the attributes).
func recordBound(key, value []byte, headers []Header) int {
	const fixed = 5*5 + 1 + 10 // length, offset delta, key and value lengths, header count
	n := fixed + len(key) + len(value)
	for _, h := range headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}
