package log

import (
	"fmt"
	"log/slog"
	"strings"
)

// TopicCollisionError is returned by CreateTopic for a name that collides with an
// existing topic's: the two differ only in case, or only in '.' and '_', or both.
// It matches ErrTopicCollision and ErrInvalidTopicName; nothing is created.
//
// Kafka refuses a name that collides with an existing one once '.' is replaced by
// '_' (InvalidTopicException, "collides with existing topics"), as its metric names
// make that replacement. strata also refuses names that differ only in case,
// which Kafka allows: on a case-insensitive filesystem (macOS and Windows by
// default) the partition directories of "Orders" and "orders" are one directory,
// and a store must open the same wherever its directory is copied.
type TopicCollisionError struct {
	// Topic is the refused name; Existing the topic's it collides with.
	Topic, Existing string
}

func (e *TopicCollisionError) Error() string {
	return fmt.Sprintf("strata/log: topic %q collides with existing topic %q: names that differ only in case (one directory on a case-insensitive filesystem) or only in '.' and '_' (one name in Kafka's metrics) may not both exist", e.Topic, e.Existing)
}

// Unwrap makes errors.Is match ErrTopicCollision and ErrInvalidTopicName.
func (e *TopicCollisionError) Unwrap() []error {
	return []error{ErrTopicCollision, ErrInvalidTopicName}
}

// collisionKey folds a topic name to what colliding names share: lower case (names
// are ASCII), '.' as '_'.
func collisionKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, ".", "_"))
}

// collision returns a *TopicCollisionError if name, not a topic of set, collides
// with one of its topics; nil otherwise.
func (s topicSet) collision(name string) error {
	key := collisionKey(name)
	for existing := range s {
		if existing != name && collisionKey(existing) == key {
			return &TopicCollisionError{Topic: name, Existing: existing}
		}
	}
	return nil
}

// warnIfMayCollide logs at WARN, as Kafka's kafka-topics does at creation, that a
// name holding '.' or '_' could collide with another topic's.
func warnIfMayCollide(logger *slog.Logger, name string) {
	if strings.ContainsAny(name, "._") {
		logger.Warn("a topic name with a period ('.') or an underscore ('_') could collide with another differing only there (refused, as Kafka refuses it: the two share metric names); to avoid issues it is best to use either, but not both", "topic", name)
	}
}
