package group

import (
	"fmt"
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
	w := writer{buf: make([]byte, 0, 64)}
	w.int16(subscriptionVersion)
	w.arrayLength(len(s.Topics))
	for _, topic := range s.Topics {
		w.string(topic)
	}
	w.bytes(s.UserData)
	writeTopicPartitions(&w, s.Owned)
	w.int32(s.Generation)
	return w.buf
}

// DecodeSubscription decodes a ConsumerProtocolSubscription of any version: fields
// of versions above 3 are ignored, as Kafka's readers do. Owned comes back sorted.
func DecodeSubscription(b []byte) (Subscription, error) {
	r := reader{buf: b}
	s := Subscription{Generation: noGeneration}
	version := r.int16()
	if r.err == nil && version < 0 {
		return Subscription{}, fmt.Errorf("%w: consumer subscription version %d", ErrInvalidArgument, version)
	}
	n := r.arrayLength(2)
	for range n {
		s.Topics = append(s.Topics, r.string())
	}
	s.UserData = r.bytes()
	if version >= 1 {
		s.Owned = readTopicPartitions(&r)
	}
	if version >= 2 {
		s.Generation = r.int32()
	}
	if version >= 3 {
		r.nullableString() // rackId
	}
	if r.err != nil {
		return Subscription{}, fmt.Errorf("%w: consumer subscription: %w", ErrInvalidArgument, r.err)
	}
	return s, nil
}

// EncodeAssignment encodes a as Kafka's ConsumerProtocolAssignment.
//
//	version int16
//	assignedPartitions [topic string, partitions [int32]]
//	userData bytes (nullable)
func EncodeAssignment(a MemberAssignment) []byte {
	w := writer{buf: make([]byte, 0, 32)}
	w.int16(assignmentVersion)
	writeTopicPartitions(&w, a.Partitions)
	w.bytes(a.UserData)
	return w.buf
}

// DecodeAssignment decodes a ConsumerProtocolAssignment of any version. An empty
// input is an empty assignment (what a SyncGroup hands a member the leader gave
// nothing). Partitions come back sorted.
func DecodeAssignment(b []byte) (MemberAssignment, error) {
	if len(b) == 0 {
		return MemberAssignment{}, nil
	}
	r := reader{buf: b}
	version := r.int16()
	if r.err == nil && version < 0 {
		return MemberAssignment{}, fmt.Errorf("%w: consumer assignment version %d", ErrInvalidArgument, version)
	}
	a := MemberAssignment{Partitions: readTopicPartitions(&r)}
	a.UserData = r.bytes()
	if r.err != nil {
		return MemberAssignment{}, fmt.Errorf("%w: consumer assignment: %w", ErrInvalidArgument, r.err)
	}
	return a, nil
}

// writeTopicPartitions writes partitions grouped by topic, topics and partitions in
// order: [topic string, partitions [int32]].
func writeTopicPartitions(w *writer, tps []TopicPartition) {
	sorted := slices.SortedFunc(slices.Values(tps), compareTopicPartitions)
	topics := 0
	for i := range sorted {
		if i == 0 || sorted[i].Topic != sorted[i-1].Topic {
			topics++
		}
	}
	w.arrayLength(topics)
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j].Topic == sorted[i].Topic {
			j++
		}
		w.string(sorted[i].Topic)
		w.arrayLength(j - i)
		for _, tp := range sorted[i:j] {
			w.int32(tp.Partition)
		}
		i = j
	}
}

// readTopicPartitions reads what writeTopicPartitions writes, sorted.
func readTopicPartitions(r *reader) []TopicPartition {
	var out []TopicPartition
	topics := r.arrayLength(6) // a topic: 2-byte name length + 4-byte count, at least
	for range topics {
		topic := r.string()
		n := r.arrayLength(4)
		for range n {
			out = append(out, TopicPartition{Topic: topic, Partition: r.int32()})
		}
	}
	if r.err != nil {
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
	w := writer{}
	writeTopicPartitions(&w, previous)
	w.int32(generation)
	return w.buf
}

// decodeStickyUserData decodes the sticky assignor's user data; v0, without the
// generation, reads as generation -1. ok is false if b is not such user data.
func decodeStickyUserData(b []byte) (previous []TopicPartition, generation int32, ok bool) {
	if len(b) == 0 {
		return nil, noGeneration, false
	}
	r := reader{buf: b}
	previous = readTopicPartitions(&r)
	generation = noGeneration
	if r.remaining() >= 4 {
		generation = r.int32()
	}
	if r.err != nil {
		return nil, noGeneration, false
	}
	return previous, generation, true
}
