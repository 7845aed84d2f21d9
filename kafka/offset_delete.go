package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleOffsetDelete answers OffsetDelete through the store's group
// coordinator: the group's committed offsets of the partitions asked for are
// deleted, except those of topics its members subscribe to
// (GROUP_SUBSCRIBED_TO_TOPIC, per partition). An unknown group is
// GROUP_ID_NOT_FOUND, a group of another protocol type with members
// NON_EMPTY_GROUP, for the whole request.
func handleOffsetDelete(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetDeleteRequest)
	resp := kmsg.NewPtrOffsetDeleteResponse()
	resp.Version = req.Version
	var partitions []log.TopicPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			partitions = append(partitions, log.TopicPartition{Topic: t.Topic, Partition: p.Partition})
		}
	}
	c, err := r.groupCoordinator()
	if err != nil {
		resp.ErrorCode = groupErrorCode(err)
		return resp, nil
	}
	results, err := c.DeleteOffsets(r.ctx, req.Group, partitions)
	if err != nil {
		resp.ErrorCode = groupErrorCode(err)
		return resp, nil
	}
	for _, t := range req.Topics {
		topic := kmsg.NewOffsetDeleteResponseTopic()
		topic.Topic = t.Topic
		for _, p := range t.Partitions {
			partition := kmsg.NewOffsetDeleteResponseTopicPartition()
			partition.Partition = p.Partition
			partition.ErrorCode = groupErrorCode(results[log.TopicPartition{Topic: t.Topic, Partition: p.Partition}])
			topic.Partitions = append(topic.Partitions, partition)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}
