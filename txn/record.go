package txn

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/stratalog/strata/internal/topicpartition"
)

// The records of the transaction state log (StateTopic), byte for byte Kafka's
// __transaction_state records (doc.go draws them, format.go holds the versions).
// The key is the transactional id; the value its Metadata; a nil value is the
// tombstone of an expired id.

// Metadata is what the coordinator knows of one transactional id: Kafka's
// TransactionMetadata, as stored in the transaction state log.
type Metadata struct {
	TransactionalID string
	// ProducerID and ProducerEpoch are the producer's current id and epoch.
	ProducerID    int64
	ProducerEpoch int16
	// LastProducerEpoch is the epoch before the last bump, so that a retried
	// request of the previous epoch is recognised; NoProducerEpoch if none. It is
	// not stored (as in Kafka): a loaded id has none.
	LastProducerEpoch int16
	// PreviousProducerID is the producer id of the last completed transaction when
	// the epoch ran out and the id changed (KIP-890); NoProducerID if none.
	PreviousProducerID int64
	// NextProducerID is the producer id the id moves to once the transaction in
	// Prepare* completes, when its epoch bump exhausted the epochs (KIP-890);
	// NoProducerID if none.
	NextProducerID int64
	// Timeout is the transaction timeout, in whole milliseconds.
	Timeout time.Duration
	State   State
	// Partitions are the partitions of the transaction in progress, sorted (a
	// group's __consumer_offsets partition among them once offsets were added).
	Partitions []TopicPartition
	// StartTime is when the transaction's first partition was added; zero if none.
	StartTime time.Time
	// LastUpdateTime is when the id's metadata last changed (for expiration).
	LastUpdateTime time.Time
}

// clone returns a copy of m that shares nothing with it.
func (m Metadata) clone() Metadata {
	m.Partitions = slices.Clone(m.Partitions)
	return m
}

// EncodeKey returns the key of id's records (TransactionLogKey v0).
func EncodeKey(id string) []byte {
	w := writer{buf: make([]byte, 0, 2+2+len(id))}
	w.int16(keyVersion)
	w.string(id)
	return w.buf
}

// DecodeKey returns the transactional id of a record's key.
func DecodeKey(b []byte) (string, error) {
	r := reader{buf: b}
	version := r.int16()
	if r.err == nil && version != keyVersion {
		return "", fmt.Errorf("unknown key version %d", version)
	}
	id := r.string()
	if r.err == nil && r.remaining() != 0 {
		r.fail(fmt.Errorf("%d bytes after the key", r.remaining()))
	}
	if r.err != nil {
		return "", fmt.Errorf("key: %w", r.err)
	}
	return id, nil
}

// EncodeValue returns m as TransactionLogValue v1 (flexible, the version
// transaction version 2 writes). An Empty transaction's partitions are written as
// null, as Kafka does.
func EncodeValue(m Metadata) []byte {
	w := writer{buf: make([]byte, 0, 64)}
	w.int16(valueVersion)
	w.int64(m.ProducerID)
	w.int16(m.ProducerEpoch)
	w.int32(durationMillis(m.Timeout))
	w.int8(int8(m.State))
	if m.State == Empty {
		w.uvarint(0) // null
	} else {
		topics := groupByTopic(m.Partitions)
		w.uvarint(uint64(len(topics)) + 1)
		for _, t := range topics {
			w.compactString(t.topic)
			w.uvarint(uint64(len(t.partitions)) + 1)
			for _, p := range t.partitions {
				w.int32(p)
			}
			w.uvarint(0) // the element's tagged fields: none
		}
	}
	w.int64(millisOrMinusOne(m.LastUpdateTime))
	w.int64(millisOrMinusOne(m.StartTime))
	// Tagged fields, in tag order, each only when it differs from its default
	// (ClientTransactionVersion's default is 0: it is always written).
	count := 1
	for _, id := range []int64{m.PreviousProducerID, m.NextProducerID} {
		if id != NoProducerID {
			count++
		}
	}
	w.uvarint(uint64(count))
	if m.PreviousProducerID != NoProducerID {
		w.int64Field(tagPreviousProducerID, m.PreviousProducerID)
	}
	if m.NextProducerID != NoProducerID {
		w.int64Field(tagNextProducerID, m.NextProducerID)
	}
	w.uvarint(tagClientTransactionVersion)
	w.uvarint(2)
	w.int16(clientTransactionVersion)
	return w.buf
}

// DecodeValue decodes a TransactionLogValue of version 0 or 1 into id's
// Metadata. Unknown tagged fields are skipped, as Kafka's readers do; a state id
// outside Kafka's, a Dead state (never stored) or a negative timeout is an error.
func DecodeValue(id string, b []byte) (Metadata, error) {
	r := reader{buf: b}
	version := r.int16()
	if r.err == nil && (version < 0 || version > maxValueVersion) {
		return Metadata{}, fmt.Errorf("unknown value version %d", version)
	}
	flexible := version >= 1
	m := Metadata{
		TransactionalID:    id,
		PreviousProducerID: NoProducerID,
		NextProducerID:     NoProducerID,
		LastProducerEpoch:  NoProducerEpoch,
	}
	m.ProducerID = r.int64()
	m.ProducerEpoch = r.int16()
	m.Timeout = time.Duration(r.int32()) * time.Millisecond
	m.State = State(r.int8())
	var topics int
	var null bool
	if flexible {
		topics, null = r.compactArrayLength(1 + 1 + 1)
	} else {
		topics, null = r.arrayLength(2 + 4)
	}
	for range topics {
		var topic string
		var n int
		if flexible {
			topic = r.compactString()
			n, null = r.compactArrayLength(4)
		} else {
			topic = r.string()
			n, null = r.arrayLength(4)
		}
		if null {
			r.fail(fmt.Errorf("%w: null partition list", errInvalid))
		}
		for range n {
			m.Partitions = append(m.Partitions, TopicPartition{Topic: topic, Partition: r.int32()})
		}
		if flexible {
			r.taggedFields(func(uint64, []byte) {})
		}
	}
	m.LastUpdateTime = timeOrZero(r.int64())
	m.StartTime = timeOrZero(r.int64())
	if flexible {
		r.taggedFields(func(tag uint64, data []byte) {
			switch {
			case tag == tagPreviousProducerID && len(data) == 8:
				m.PreviousProducerID = int64(binary.BigEndian.Uint64(data))
			case tag == tagNextProducerID && len(data) == 8:
				m.NextProducerID = int64(binary.BigEndian.Uint64(data))
			case tag == tagPreviousProducerID || tag == tagNextProducerID:
				r.fail(fmt.Errorf("%w: tagged field %d of %d bytes", errInvalid, tag, len(data)))
			}
		})
	}
	if r.err == nil && r.remaining() != 0 {
		r.fail(fmt.Errorf("%d bytes after the value", r.remaining()))
	}
	if r.err == nil && m.Timeout < 0 {
		r.fail(fmt.Errorf("negative timeout %v", m.Timeout))
	}
	if r.err == nil && (!m.State.valid() || m.State == Dead) {
		r.fail(fmt.Errorf("state %d", int8(m.State)))
	}
	if r.err != nil {
		return Metadata{}, fmt.Errorf("value of %q: %w", id, r.err)
	}
	if m.State == Empty {
		m.Partitions = nil // Kafka ignores them
	}
	slices.SortFunc(m.Partitions, compareTopicPartitions)
	m.Partitions = slices.Compact(m.Partitions)
	return m, nil
}

type topicPartitions struct {
	topic      string
	partitions []int32
}

// groupByTopic groups sorted partitions by topic.
func groupByTopic(tps []TopicPartition) []topicPartitions {
	var out []topicPartitions
	for _, tp := range tps {
		if len(out) == 0 || out[len(out)-1].topic != tp.Topic {
			out = append(out, topicPartitions{topic: tp.Topic})
		}
		last := &out[len(out)-1]
		last.partitions = append(last.partitions, tp.Partition)
	}
	return out
}

// compareTopicPartitions orders by topic, then partition.
var compareTopicPartitions = topicpartition.Compare

func millisOrMinusOne(t time.Time) int64 {
	if t.IsZero() {
		return noTimestamp
	}
	return t.UnixMilli()
}

func timeOrZero(ms int64) time.Time {
	if ms < 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// durationMillis returns d in milliseconds, clamped to an int32.
func durationMillis(d time.Duration) int32 {
	return int32(min(max(d.Milliseconds(), 0), 1<<31-1))
}
