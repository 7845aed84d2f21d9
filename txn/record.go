package txn

import (
	"encoding/binary"
	"fmt"
	"github.com/stratalog/strata/internal/kafkawire"
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
	// ClientTransactionVersion is the transaction version of the client's last
	// end (Kafka's transaction.version): 2 (KIP-890: the end bumped the epoch,
	// EndTxn), or 1 (no bump, EndTxnVersion1); 0 in records of a coordinator that
	// did not record it, read as 1. The markers of a decided transaction carry it.
	ClientTransactionVersion int16
}

// clone returns a copy of m that shares nothing with it.
func (m Metadata) clone() Metadata {
	m.Partitions = slices.Clone(m.Partitions)
	return m
}

// EncodeKey returns the key of id's records (TransactionLogKey v0).
func EncodeKey(id string) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 2+2+len(id))}
	w.Int16(keyVersion)
	w.String(id)
	return w.Buf
}

// DecodeKey returns the transactional id of a record's key.
func DecodeKey(b []byte) (string, error) {
	r := kafkawire.NewReader(b)
	version := r.Int16()
	if r.Err() == nil && version != keyVersion {
		return "", fmt.Errorf("unknown key version %d", version)
	}
	id := r.String()
	if r.Err() == nil && r.Remaining() != 0 {
		r.Fail(fmt.Errorf("%d bytes after the key", r.Remaining()))
	}
	if r.Err() != nil {
		return "", fmt.Errorf("key: %w", r.Err())
	}
	return id, nil
}

// EncodeValue returns m as TransactionLogValue v1 (flexible, the version
// transaction version 2 writes). An Empty transaction's partitions are written as
// null, as Kafka does.
func EncodeValue(m Metadata) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 64)}
	w.Int16(valueVersion)
	w.Int64(m.ProducerID)
	w.Int16(m.ProducerEpoch)
	w.Int32(durationMillis(m.Timeout))
	w.Int8(int8(m.State))
	if m.State == Empty {
		w.Uvarint(0) // null
	} else {
		topics := groupByTopic(m.Partitions)
		w.Uvarint(uint64(len(topics)) + 1)
		for _, t := range topics {
			w.CompactString(t.topic)
			w.Uvarint(uint64(len(t.partitions)) + 1)
			for _, p := range t.partitions {
				w.Int32(p)
			}
			w.Uvarint(0) // the element's tagged fields: none
		}
	}
	w.Int64(millisOrMinusOne(m.LastUpdateTime))
	w.Int64(millisOrMinusOne(m.StartTime))
	// Tagged fields, in tag order, each only when it differs from its default
	// (ClientTransactionVersion's is 0).
	count := 0
	for _, id := range []int64{m.PreviousProducerID, m.NextProducerID} {
		if id != NoProducerID {
			count++
		}
	}
	if m.ClientTransactionVersion != 0 {
		count++
	}
	w.Uvarint(uint64(count))
	if m.PreviousProducerID != NoProducerID {
		w.Int64Field(tagPreviousProducerID, m.PreviousProducerID)
	}
	if m.NextProducerID != NoProducerID {
		w.Int64Field(tagNextProducerID, m.NextProducerID)
	}
	if m.ClientTransactionVersion != 0 {
		w.Uvarint(tagClientTransactionVersion)
		w.Uvarint(2)
		w.Int16(m.ClientTransactionVersion)
	}
	return w.Buf
}

// DecodeValue decodes a TransactionLogValue of version 0 or 1 into id's
// Metadata. Unknown tagged fields are skipped, as Kafka's readers do; a state id
// outside Kafka's, a Dead state (never stored) or a negative timeout is an error.
func DecodeValue(id string, b []byte) (Metadata, error) {
	r := kafkawire.NewReader(b)
	version := r.Int16()
	if r.Err() == nil && (version < 0 || version > maxValueVersion) {
		return Metadata{}, fmt.Errorf("unknown value version %d", version)
	}
	flexible := version >= 1
	m := Metadata{
		TransactionalID:    id,
		PreviousProducerID: NoProducerID,
		NextProducerID:     NoProducerID,
		LastProducerEpoch:  NoProducerEpoch,
	}
	m.ProducerID = r.Int64()
	m.ProducerEpoch = r.Int16()
	m.Timeout = time.Duration(r.Int32()) * time.Millisecond
	m.State = State(r.Int8())
	var topics int
	var null bool
	if flexible {
		topics, null = r.CompactArrayLength(1 + 1 + 1)
	} else {
		topics, null = r.ArrayLength(2 + 4)
	}
	for range topics {
		var topic string
		var n int
		if flexible {
			topic = r.CompactString()
			n, null = r.CompactArrayLength(4)
		} else {
			topic = r.String()
			n, null = r.ArrayLength(4)
		}
		if null {
			r.Fail(fmt.Errorf("%w: null partition list", kafkawire.ErrInvalid))
		}
		for range n {
			m.Partitions = append(m.Partitions, TopicPartition{Topic: topic, Partition: r.Int32()})
		}
		if flexible {
			r.TaggedFields(func(uint64, []byte) {})
		}
	}
	m.LastUpdateTime = timeOrZero(r.Int64())
	m.StartTime = timeOrZero(r.Int64())
	if flexible {
		r.TaggedFields(func(tag uint64, data []byte) {
			switch {
			case tag == tagPreviousProducerID && len(data) == 8:
				m.PreviousProducerID = int64(binary.BigEndian.Uint64(data))
			case tag == tagNextProducerID && len(data) == 8:
				m.NextProducerID = int64(binary.BigEndian.Uint64(data))
			case tag == tagClientTransactionVersion && len(data) == 2:
				m.ClientTransactionVersion = int16(binary.BigEndian.Uint16(data))
			case tag == tagPreviousProducerID || tag == tagNextProducerID || tag == tagClientTransactionVersion:
				r.Fail(fmt.Errorf("%w: tagged field %d of %d bytes", kafkawire.ErrInvalid, tag, len(data)))
			}
		})
	}
	if r.Err() == nil && r.Remaining() != 0 {
		r.Fail(fmt.Errorf("%d bytes after the value", r.Remaining()))
	}
	if r.Err() == nil && (m.ClientTransactionVersion < 0 || m.ClientTransactionVersion > clientTransactionVersion) {
		r.Fail(fmt.Errorf("client transaction version %d", m.ClientTransactionVersion))
	}
	if r.Err() == nil && m.Timeout < 0 {
		r.Fail(fmt.Errorf("negative timeout %v", m.Timeout))
	}
	if r.Err() == nil && (!m.State.valid() || m.State == Dead) {
		r.Fail(fmt.Errorf("state %d", int8(m.State)))
	}
	if r.Err() != nil {
		return Metadata{}, fmt.Errorf("value of %q: %w", id, r.Err())
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
