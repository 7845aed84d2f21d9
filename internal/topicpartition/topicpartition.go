// Package topicpartition holds TopicPartition, the name of one partition of a
// topic, which every layer that knows topics shares (group, log, and what the
// Kafka listener adds above them): one type, so that assignments, committed
// offsets, events and errors need no conversion.
//
// Public packages re-export it (group.TopicPartition and log.TopicPartition are
// aliases of it); users never import this package.
package topicpartition

import (
	"cmp"
	"strconv"
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String returns "topic-partition", the name of the partition's directory.
func (tp TopicPartition) String() string {
	return tp.Topic + "-" + strconv.Itoa(int(tp.Partition))
}

// Compare orders partitions by topic, then partition number: the order of
// slices.SortFunc.
func Compare(a, b TopicPartition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// TopicPartition has no LogValue method: it would be promoted to every type that
// embeds it (log.PartitionOfflineError, the hooks' events, PartitionStats), which
// slog would then log as the bare name. A "partition" attribute is given String.
