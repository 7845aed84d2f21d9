package kafka

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleOffsetFetch answers OffsetFetch through the store's group coordinator:
// a group's committed offsets of the partitions asked for (a null topic list,
// v2+: every partition it committed), -1 where none is committed. With
// RequireStable (v7+, a read_committed consumer), a partition whose offsets a
// transaction committed but has not ended gets UNSTABLE_OFFSET_COMMIT and the
// consumer retries (the coordinator's FetchStableOffsets). Before v8 one group is
// asked; from v8 several. The leader epoch is -1: commits do not store it. The
// member ID and epoch of v9+ are those of KIP-848 groups, which the store does
// not have: they are not checked. v10 names topics by topic ID: an ID no topic
// has is UNKNOWN_TOPIC_ID for each of its partitions, and of a group's every
// offset (a null topic list) those of deleted topics, which have no ID, are left
// out.
func handleOffsetFetch(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetFetchRequest)
	resp := kmsg.NewPtrOffsetFetchResponse()
	resp.Version = req.Version
	c, coordinatorErr := r.groupCoordinator()
	if req.Version < 8 {
		topics, offsets, err := answerOffsetFetch(r.ctx, c, coordinatorErr, req.Group, askedTopics(req.Topics), req.RequireStable)
		if req.Version >= 2 {
			resp.ErrorCode = groupErrorCode(err)
		}
		for _, t := range topics {
			topic := kmsg.NewOffsetFetchResponseTopic()
			topic.Topic = t.topic
			for _, p := range t.partitions {
				o := offsetOf(offsets, log.TopicPartition{Topic: t.topic, Partition: p}, err)
				partition := kmsg.NewOffsetFetchResponseTopicPartition()
				partition.Partition, partition.Offset, partition.LeaderEpoch = p, o.offset, -1
				partition.Metadata, partition.ErrorCode = o.metadata, o.code
				topic.Partitions = append(topic.Partitions, partition)
			}
			resp.Topics = append(resp.Topics, topic)
		}
		return resp, nil
	}
	for _, g := range req.Groups {
		var asked, unknownIDs []fetchTopic
		if g.Topics != nil {
			asked = []fetchTopic{}
			for _, t := range g.Topics {
				if req.Version < 10 {
					asked = append(asked, fetchTopic{topic: t.Topic, partitions: t.Partitions})
					continue
				}
				name, ok := topicNameOf(r.store, t.TopicID)
				if !ok {
					unknownIDs = append(unknownIDs, fetchTopic{id: t.TopicID, partitions: t.Partitions})
					continue
				}
				asked = append(asked, fetchTopic{topic: name, id: t.TopicID, partitions: t.Partitions})
			}
		}
		topics, offsets, err := answerOffsetFetch(r.ctx, c, coordinatorErr, g.Group, asked, req.RequireStable)
		out := kmsg.NewOffsetFetchResponseGroup()
		out.Group = g.Group
		out.ErrorCode = groupErrorCode(err)
		for _, t := range topics {
			topic := kmsg.NewOffsetFetchResponseGroupTopic()
			topic.Topic, topic.TopicID = t.topic, t.id
			if req.Version >= 10 && t.id == ([16]byte{}) {
				if topic.TopicID = topicIDOf(r.store, t.topic); topic.TopicID == ([16]byte{}) {
					continue // a deleted topic's offsets: no ID to name them by
				}
			}
			for _, p := range t.partitions {
				o := offsetOf(offsets, log.TopicPartition{Topic: t.topic, Partition: p}, err)
				partition := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				partition.Partition, partition.Offset, partition.LeaderEpoch = p, o.offset, -1
				partition.Metadata, partition.ErrorCode = o.metadata, o.code
				topic.Partitions = append(topic.Partitions, partition)
			}
			out.Topics = append(out.Topics, topic)
		}
		for _, t := range unknownIDs {
			topic := kmsg.NewOffsetFetchResponseGroupTopic()
			topic.TopicID = t.id
			for _, p := range t.partitions {
				partition := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				partition.Partition, partition.Offset, partition.LeaderEpoch = p, -1, -1
				partition.ErrorCode = kerr.UnknownTopicID.Code
				topic.Partitions = append(topic.Partitions, partition)
			}
			out.Topics = append(out.Topics, topic)
		}
		resp.Groups = append(resp.Groups, out)
	}
	return resp, nil
}

// askedTopics is the topics of a v0-v7 request; nil (every partition) for a
// null list.
func askedTopics(topics []kmsg.OffsetFetchRequestTopic) []fetchTopic {
	if topics == nil {
		return nil
	}
	asked := make([]fetchTopic, 0, len(topics))
	for _, t := range topics {
		asked = append(asked, fetchTopic{topic: t.Topic, partitions: t.Partitions})
	}
	return asked
}

// answerOffsetFetch answers one group: the topics to list (those asked; if all
// were asked for, those the group committed; none for a group that failed), the
// partitions' offsets and the group's error (coordinatorErr, if the coordinator
// could not be had).
func answerOffsetFetch(ctx context.Context, c *group.Coordinator, coordinatorErr error, groupName string, asked []fetchTopic, stable bool) ([]fetchTopic, map[log.TopicPartition]partitionOffset, error) {
	if coordinatorErr != nil {
		return asked, nil, coordinatorErr
	}
	fetched, offsets, err := fetchGroupOffsets(ctx, c, groupName, asked, stable)
	if asked != nil {
		return asked, offsets, err
	}
	return fetched, offsets, err
}

// fetchTopic is a topic's partitions, asked for or answered; id is the topic ID
// it was asked by (v10+), zero if it was asked by name or not asked.
type fetchTopic struct {
	topic      string
	id         [16]byte
	partitions []int32
}

// partitionOffset is a partition's answer: its committed offset (-1 if none),
// the commit's metadata and the partition's error code.
type partitionOffset struct {
	offset   int64
	metadata *string
	code     int16
}

// fetchGroupOffsets fetches the offsets of group: of the partitions of asked,
// or of every partition the group committed if asked is nil (then it returns
// those partitions, sorted, as fetched). With stable, partitions with pending
// transactional offsets are answered UNSTABLE_OFFSET_COMMIT. An error is the
// group's.
func fetchGroupOffsets(ctx context.Context, c *group.Coordinator, groupName string, asked []fetchTopic, stable bool) ([]fetchTopic, map[log.TopicPartition]partitionOffset, error) {
	var partitions []log.TopicPartition
	if asked != nil {
		partitions = []log.TopicPartition{}
		for _, t := range asked {
			for _, p := range t.partitions {
				partitions = append(partitions, log.TopicPartition{Topic: t.topic, Partition: p})
			}
		}
	}
	fetch := c.FetchOffsets
	if stable {
		fetch = c.FetchStableOffsets
	}
	committed, err := fetch(ctx, groupName, partitions)
	unstable := stable && errors.Is(err, group.ErrUnstableOffsetCommit)
	if unstable {
		// Kafka answers UNSTABLE_OFFSET_COMMIT for the pending partitions only.
		committed, err = c.FetchOffsets(ctx, groupName, partitions)
	}
	if err != nil {
		return nil, nil, err
	}
	offsets := make(map[log.TopicPartition]partitionOffset, len(committed))
	for tp, o := range committed {
		offsets[tp] = partitionOffset{offset: o.Offset, metadata: message(o.Metadata)}
	}
	if partitions == nil {
		for tp := range committed {
			partitions = append(partitions, tp)
		}
	}
	if unstable {
		for _, tp := range partitions {
			if c.HasPendingTxnOffsets(groupName, tp) {
				offsets[tp] = partitionOffset{offset: -1, code: kerr.UnstableOffsetCommit.Code}
			}
		}
	}
	if asked != nil {
		return nil, offsets, nil
	}
	slices.SortFunc(partitions, func(a, b log.TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var fetched []fetchTopic
	for _, tp := range partitions {
		if n := len(fetched); n == 0 || fetched[n-1].topic != tp.Topic {
			fetched = append(fetched, fetchTopic{topic: tp.Topic})
		}
		last := &fetched[len(fetched)-1]
		last.partitions = append(last.partitions, tp.Partition)
	}
	return fetched, offsets, nil
}

// offsetOf is a partition's answer: -1 and no error for a partition without a
// commit, as Kafka answers; the group's error, if any, for every partition (the
// only place a v0-v1 response carries it).
func offsetOf(offsets map[log.TopicPartition]partitionOffset, tp log.TopicPartition, err error) partitionOffset {
	if err != nil {
		return partitionOffset{offset: -1, code: groupErrorCode(err)}
	}
	if o, ok := offsets[tp]; ok {
		return o
	}
	return partitionOffset{offset: -1, metadata: message("")}
}
