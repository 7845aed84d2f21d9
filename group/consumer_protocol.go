package group

import (
	"fmt"
	"github.com/stratalog/strata/internal/kafkawire"
	"slices"
)

// ProtocolTypeConsumer is the protocol type of consumer groups: their protocols are
// assignors, their metadata a Subscription and their assignments a MemberAssignment,
// encoded as Kafka's consumer protocol.
const ProtocolTypeConsumer = "consumer"

// Subscription is a consumer's protocol metadata in a JoinGroup: what it subscribes
// to and what it owns (Kafka's ConsumerProtocolSubscription).
type Subscription struct {
	// Topics the member subscribes to.
	Topics []string
	// UserData is assignor-specific (the sticky assignor: the member's previous
	// assignment); nil if none.
	UserData []byte
	// Owned lists the partitions the member holds now and keeps consuming during
	// the rebalance: under the cooperative protocol, all it owns; under the eager
	// protocol, nothing (it revoked everything before joining).
	Owned []TopicPartition
	// Generation is the generation of Owned, noGeneration (-1) if none.
	Generation int32
}

// MemberAssignment is what the leader assigns one consumer in a SyncGroup (Kafka's
// ConsumerProtocolAssignment).
type MemberAssignment struct {
	Partitions []TopicPartition
	UserData   []byte
}

// EncodeSubscription encodes s as Kafka's ConsumerProtocolSubscription v2.
//
//	version int16 = 2
//	topics [string]
//	userData bytes (nullable)
//	ownedPartitions [topic string, partitions [int32]]   (v1+)
//	generationId int32                                   (v2+)
func EncodeSubscription(s Subscription) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 64)}
	w.Int16(subscriptionVersion)
	w.ArrayLength(len(s.Topics))
	for _, topic := range s.Topics {
		w.String(topic)
	}
	w.Bytes(s.UserData)
	writeTopicPartitions(&w, s.Owned)
	w.Int32(s.Generation)
	return w.Buf
}

// DecodeSubscription decodes a ConsumerProtocolSubscription of any version: fields
// of versions above 3 are ignored, as Kafka's readers do. Owned comes back sorted.
func DecodeSubscription(b []byte) (Subscription, error) {
	r := kafkawire.NewReader(b)
	s := Subscription{Generation: noGeneration}
	version := r.Int16()
	if r.Err() == nil && version < 0 {
		return Subscription{}, fmt.Errorf("%w: consumer subscription version %d", ErrInvalidArgument, version)
	}
	n, _ := r.ArrayLength(2)
	for range n {
		s.Topics = append(s.Topics, r.String())
	}
	s.UserData = r.Bytes()
	if version >= 1 {
		s.Owned = readTopicPartitions(r)
	}
	if version >= 2 {
		s.Generation = r.Int32()
	}
	if version >= 3 {
		r.NullableString() // rackId
	}
	if r.Err() != nil {
		return Subscription{}, fmt.Errorf("%w: consumer subscription: %w", ErrInvalidArgument, r.Err())
	}
	return s, nil
}

// EncodeAssignment encodes a as Kafka's ConsumerProtocolAssignment.
//
//	version int16
//	assignedPartitions [topic string, partitions [int32]]
//	userData bytes (nullable)
func EncodeAssignment(a MemberAssignment) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 32)}
	w.Int16(assignmentVersion)
	writeTopicPartitions(&w, a.Partitions)
	w.Bytes(a.UserData)
	return w.Buf
}

// DecodeAssignment decodes a ConsumerProtocolAssignment of any version. An empty
// input is an empty assignment (what a SyncGroup hands a member the leader gave
// nothing). Partitions come back sorted.
func DecodeAssignment(b []byte) (MemberAssignment, error) {
	if len(b) == 0 {
		return MemberAssignment{}, nil
	}
	r := kafkawire.NewReader(b)
	version := r.Int16()
	if r.Err() == nil && version < 0 {
		return MemberAssignment{}, fmt.Errorf("%w: consumer assignment version %d", ErrInvalidArgument, version)
	}
	a := MemberAssignment{Partitions: readTopicPartitions(r)}
	a.UserData = r.Bytes()
	if r.Err() != nil {
		return MemberAssignment{}, fmt.Errorf("%w: consumer assignment: %w", ErrInvalidArgument, r.Err())
	}
	return a, nil
}

// writeTopicPartitions writes partitions grouped by topic, topics and partitions in
// order: [topic string, partitions [int32]].
func writeTopicPartitions(w *kafkawire.Writer, tps []TopicPartition) {
	sorted := slices.SortedFunc(slices.Values(tps), compareTopicPartitions)
	topics := 0
	for i := range sorted {
		if i == 0 || sorted[i].Topic != sorted[i-1].Topic {
			topics++
		}
	}
	w.ArrayLength(topics)
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j].Topic == sorted[i].Topic {
			j++
		}
		w.String(sorted[i].Topic)
		w.ArrayLength(j - i)
		for _, tp := range sorted[i:j] {
			w.Int32(tp.Partition)
		}
		i = j
	}
}

// readTopicPartitions reads what writeTopicPartitions writes, sorted.
func readTopicPartitions(r *kafkawire.Reader) []TopicPartition {
	var out []TopicPartition
	topics, _ := r.ArrayLength(6) // a topic: 2-byte name length + 4-byte count, at least
	for range topics {
		topic := r.String()
		n, _ := r.ArrayLength(4)
		for range n {
			out = append(out, TopicPartition{Topic: topic, Partition: r.Int32()})
		}
	}
	if r.Err() != nil {
		return nil
	}
	slices.SortFunc(out, compareTopicPartitions)
	return out
}

// encodeStickyUserData encodes the sticky assignor's user data: the member's
// previous assignment and its generation (Kafka's StickyAssignorUserData v1).
//
//	previousAssignment [topic string, partitions [int32]]
//	generation int32
func encodeStickyUserData(previous []TopicPartition, generation int32) []byte {
	w := kafkawire.Writer{}
	writeTopicPartitions(&w, previous)
	w.Int32(generation)
	return w.Buf
}

// decodeStickyUserData decodes the sticky assignor's user data; v0, without the
// generation, reads as generation -1. ok is false if b is not such user data.
func decodeStickyUserData(b []byte) (previous []TopicPartition, generation int32, ok bool) {
	if len(b) == 0 {
		return nil, noGeneration, false
	}
	r := kafkawire.NewReader(b)
	previous = readTopicPartitions(r)
	generation = noGeneration
	if r.Remaining() >= 4 {
		generation = r.Int32()
	}
	if r.Err() != nil {
		return nil, noGeneration, false
	}
	return previous, generation, true
}
