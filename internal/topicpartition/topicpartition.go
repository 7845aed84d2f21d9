// Package topicpartition holds TopicPartition, the name of one partition of a
// topic, which every layer that knows topics shares (group, log, and what the
// Kafka listener adds above them): one type, so that assignments, committed
// offsets, events and errors need no conversion.
//
// Public packages re-export it (group.TopicPartition and log.TopicPartition are
// aliases of it); users never import this package.
package topicpartition

import "strconv"

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String returns "topic-partition", the name of the partition's directory.
func (tp TopicPartition) String() string {
	return tp.Topic + "-" + strconv.Itoa(int(tp.Partition))
}

// TopicPartition has no LogValue method: it would be promoted to every type that
// embeds it (log.PartitionOfflineError, the hooks' events, PartitionStats), which
// slog would then log as the bare name. A "partition" attribute is given String.
