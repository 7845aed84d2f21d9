package group

import (
	"cmp"
	"slices"
	"time"

	"github.com/stratalog/strata/internal/topicpartition"
)

// TopicPartition names one partition of a topic: Topic and Partition, and String
// returns "topic-partition", the name of the partition's directory. It is one type
// in every layer (log.TopicPartition is the same), kept in a leaf package below
// them all.
type TopicPartition = topicpartition.TopicPartition

// compareTopicPartitions orders by topic, then partition.
func compareTopicPartitions(a, b TopicPartition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// sortedTopicPartitions returns the set's members in order.
func sortedTopicPartitions(set map[TopicPartition]struct{}) []TopicPartition {
	out := make([]TopicPartition, 0, len(set))
	for tp := range set {
		out = append(out, tp)
	}
	slices.SortFunc(out, compareTopicPartitions)
	return out
}

// topicPartitionSet returns tps as a set.
func topicPartitionSet(tps []TopicPartition) map[TopicPartition]struct{} {
	set := make(map[TopicPartition]struct{}, len(tps))
	for _, tp := range tps {
		set[tp] = struct{}{}
	}
	return set
}

// minus returns the members of a that are not in b, in order.
func minus(a, b []TopicPartition) []TopicPartition {
	drop := topicPartitionSet(b)
	var out []TopicPartition
	for _, tp := range a {
		if _, ok := drop[tp]; !ok {
			out = append(out, tp)
		}
	}
	slices.SortFunc(out, compareTopicPartitions)
	return out
}

// OffsetAndMetadata is what a consumer commits for one partition: the offset of the
// next record to read (one past the last one processed) and an optional string that
// is stored with it (Kafka's OffsetAndMetadata).
type OffsetAndMetadata struct {
	Offset   int64
	Metadata string
}

// CommittedOffset is a stored commit: the offset, its metadata and when it was
// committed (to the millisecond: the stored precision).
type CommittedOffset struct {
	Offset     int64
	Metadata   string
	CommitTime time.Time
}

// Protocol is one protocol a member supports, in the classic group protocol: for
// consumers (protocol type "consumer"), the name of an assignor and the member's
// subscription encoded for it (see EncodeSubscription). The coordinator treats the
// metadata as opaque bytes, except to describe consumer groups.
type Protocol struct {
	Name     string
	Metadata []byte
}
