package kafka

import (
	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleOffsetCommit answers OffsetCommit through the store's group
// coordinator: the offsets of the partitions that exist are committed in one
// write, checked against the member and generation (-1 and no member: a
// consumer outside any group, accepted while the group has no members, as by
// Kafka). A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and
// the others are committed; the coordinator's refusal (UNKNOWN_MEMBER_ID,
// ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, OFFSET_METADATA_TOO_LARGE...) is
// every partition's error. The commit's leader epoch (v6+), timestamp (v1) and
// retention (v2-v4) are not stored: offsets live as long as
// log.Options.OffsetsRetention says. v10 names topics by topic ID: an ID no
// topic has is UNKNOWN_TOPIC_ID for each of its partitions.
func handleOffsetCommit(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetCommitRequest)
	resp := kmsg.NewPtrOffsetCommitResponse()
	resp.Version = req.Version
	offsets := make(map[log.TopicPartition]group.OffsetAndMetadata)
	codes := make(map[log.TopicPartition]int16)
	unknownIDs := make([]bool, len(req.Topics))
	if req.Version >= 10 {
		for i := range req.Topics {
			t := &req.Topics[i]
			var known bool
			t.Topic, known = topicNameOf(r.store, t.TopicID)
			unknownIDs[i] = !known
		}
	}
	c, err := r.groupCoordinator()
	if err == nil { // without a coordinator, its error is every partition's
		partitionCounts := topicPartitionCounts{store: r.store}
		for i, t := range req.Topics {
			if unknownIDs[i] {
				continue
			}
			for _, p := range t.Partitions {
				tp := log.TopicPartition{Topic: t.Topic, Partition: p.Partition}
				if !partitionCounts.exists(tp) {
					codes[tp] = kerr.UnknownTopicOrPartition.Code
					continue
				}
				offsets[tp] = group.OffsetAndMetadata{Offset: p.Offset, Metadata: stringValue(p.Metadata)}
			}
		}
		err = c.CommitOffsets(r.ctx, group.CommitRequest{
			Group:      req.Group,
			MemberID:   req.MemberID,
			InstanceID: stringValue(req.InstanceID),
			Generation: req.Generation,
			Offsets:    offsets,
		})
	}
	committed := groupErrorCode(err)
	for i, t := range req.Topics {
		topic := kmsg.NewOffsetCommitResponseTopic()
		topic.Topic, topic.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			partition := kmsg.NewOffsetCommitResponseTopicPartition()
			partition.Partition = p.Partition
			code, ok := codes[log.TopicPartition{Topic: t.Topic, Partition: p.Partition}]
			switch {
			case unknownIDs[i]:
				code = kerr.UnknownTopicID.Code
			case !ok:
				code = committed
			}
			partition.ErrorCode = code
			topic.Partitions = append(topic.Partitions, partition)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

// topicPartitionCounts tells whether partitions exist, describing each topic
// of a request once.
type topicPartitionCounts struct {
	store  *log.Store
	counts map[string]int // -1: the topic does not exist (or cannot be described)
}

func (t *topicPartitionCounts) exists(tp log.TopicPartition) bool {
	if t.counts == nil {
		t.counts = make(map[string]int)
	}
	n, ok := t.counts[tp.Topic]
	if !ok {
		n = -1
		if d, err := t.store.DescribeTopic(tp.Topic); err == nil {
			n = len(d.Partitions)
		}
		t.counts[tp.Topic] = n
	}
	return tp.Partition >= 0 && int(tp.Partition) < n
}
