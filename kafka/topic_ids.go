package kafka

import (
	"github.com/stratalog/strata/log"
)

// Topic IDs on the wire: the versions of Metadata (v10+), DeleteTopics (v6+),
// Produce (v13), Fetch (v13+), OffsetCommit and OffsetFetch (v10) that name topics
// by ID rather than by name are answered by resolving each ID to its topic's name
// (log.Store.TopicByID) at the start of the request; an ID no topic has is
// UNKNOWN_TOPIC_ID, as on Kafka. The store's IDs are Kafka's Uuid bytes, so they go
// on the wire as they are.

// topicNameOf returns the name of the topic whose ID is id, or false if no topic
// has it (the zero ID included) or the store is closed.
func topicNameOf(store *log.Store, id [16]byte) (string, bool) {
	name, err := store.TopicByID(log.TopicID(id))
	return name, err == nil
}

// topicIDOf returns the ID of the named topic; the zero ID (Kafka's "none") if
// there is no such topic.
func topicIDOf(store *log.Store, name string) [16]byte {
	id, _ := store.TopicID(name)
	return id
}
