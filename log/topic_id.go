package log

import (
	"encoding/binary"
)

// TopicID is a topic's ID: Kafka's Uuid, 16 bytes drawn at random when the topic is
// created (a version-4 UUID, never the zero ID nor one of the IDs Kafka reserves),
// kept in topics.json and the same after every Open and on every broker of a store of
// several. A topic deleted and created again under its name gets a new ID, so that
// an ID names one topic for its whole life, as on Kafka (KIP-516). Its text form,
// String, is Kafka's: unpadded URL-safe base64, 22 characters
// ("kPFzwh1hS6O9GiWlFPgaTw"). The zero TopicID is no topic's.
type TopicID [16]byte

// String returns id in Kafka's text form (kafka-topics' TopicId), the zero ID as
// "AAAAAAAAAAAAAAAAAAAAAA" as Kafka prints it.
func (id TopicID) String() string { return kafkaUUIDEncoding.EncodeToString(id[:]) }

// IsZero reports whether id is the zero ID (Kafka's "no topic ID").
func (id TopicID) IsZero() bool { return id == TopicID{} }

// ParseTopicID parses a topic ID in Kafka's text form (String's). Anything else,
// the zero ID and the IDs Kafka reserves are ErrInvalidArgument.
func ParseTopicID(s string) (TopicID, error) {
	id, ok := parseTopicID(s)
	if !ok {
		return TopicID{}, errorf("strata/log: %q is not a topic ID (22 characters of unpadded URL-safe base64, not a reserved ID): %w", s, ErrInvalidArgument)
	}
	return id, nil
}

// parseTopicID parses s as ParseTopicID does.
func parseTopicID(s string) (TopicID, bool) {
	if !validKafkaUUID(s) {
		return TopicID{}, false
	}
	var id TopicID
	b, _ := kafkaUUIDEncoding.DecodeString(s) // checked by validKafkaUUID: 16 bytes
	copy(id[:], b)
	if id.reserved() {
		return TopicID{}, false
	}
	return id, true
}

// reserved reports whether id is one Kafka never gives a topic: the IDs whose first
// 8 bytes are zero and last 8 bytes below 100 (the zero ID, "unassigned"; 1, the
// metadata topic's; the rest kept for future use, as Kafka's DirectoryId keeps them).
func (id TopicID) reserved() bool {
	return binary.BigEndian.Uint64(id[:8]) == 0 && binary.BigEndian.Uint64(id[8:]) < 100
}

// newTopicID returns a new random topic ID, as Kafka's Uuid.randomUuid draws one (a
// version-4 UUID, whose version bits keep it out of the reserved IDs, and whose text
// does not start with '-').
func newTopicID() TopicID {
	id, _ := parseTopicID(newKafkaUUID()) // never reserved: the version nibble is 4
	return id
}

// TopicID returns the ID of the named topic: ErrUnknownTopic if there is none,
// ErrClosed after Close.
func (s *Store) TopicID(name string) (TopicID, error) {
	t, err := s.lookupTopic(name)
	if err != nil {
		return TopicID{}, err
	}
	return t.id, nil
}

// TopicByID returns the name of the topic whose ID is id: ErrUnknownTopicID (which
// also matches ErrUnknownTopic) if no topic has it (never created here, or deleted),
// ErrClosed after Close.
func (s *Store) TopicByID(id TopicID) (string, error) {
	if s.closed.Load() {
		return "", ErrClosed
	}
	if name, ok := s.topicNamesByID()[id]; ok && !id.IsZero() {
		return name, nil
	}
	return "", errorf("strata/log: topic ID %s: %w", id, ErrUnknownTopicID)
}

// topicIDIndex maps the topic IDs of one topics snapshot to their names.
type topicIDIndex struct {
	set   *topicSet // the snapshot indexed
	names map[TopicID]string
}

// topicNamesByID returns the map of IDs to names of the current topics snapshot:
// the one built for it before (a topic change publishes a new snapshot, so the map
// is built once per change), or a new one.
func (s *Store) topicNamesByID() map[TopicID]string {
	set := s.topics.Load()
	if index := s.topicIDs.Load(); index != nil && index.set == set {
		return index.names
	}
	index := &topicIDIndex{set: set, names: make(map[TopicID]string, len(*set))}
	for name, t := range *set {
		index.names[t.id] = name
	}
	s.topicIDs.Store(index)
	return index.names
}

// assignMissingTopicIDs gives every topic of meta without an ID (a topics.json
// written before topic IDs existed) a new one, and reports whether it gave any.
func assignMissingTopicIDs(meta *metadataFile) bool {
	assigned := false
	for i := range meta.Topics {
		if meta.Topics[i].TopicID == "" {
			meta.Topics[i].TopicID = newTopicID().String()
			assigned = true
		}
	}
	return assigned
}
