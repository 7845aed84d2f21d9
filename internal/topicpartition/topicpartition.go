// Package topicpartition holds TopicPartition, the name of one partition of a
// topic, which every layer that knows topics shares (group, log, and what the
// Kafka listener adds above them): one type, so that assignments, committed
// offsets, events and errors need no conversion.
//
// Public packages re-export it (group.TopicPartition and log.TopicPartition are
// aliases of it); users never import this package.
package topicpartition

import (
	"log/slog"
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

// LogValue makes a TopicPartition given to a slog logger the string String
// returns, the value every "partition" attribute of strata's logs has.
func (tp TopicPartition) LogValue() slog.Value {
	return slog.StringValue(tp.String())
}
