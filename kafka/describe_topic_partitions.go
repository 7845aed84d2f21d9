package kafka

import (
	"errors"
	"slices"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxDescribeTopicPartitions bounds the partitions of one DescribeTopicPartitions
// answer: Kafka's max.request.partition.size.limit, 2000.
const maxDescribeTopicPartitions = 2000

// topicOperations is a topic's authorized operations as a broker without an
// authorizer reports them: every operation Kafka defines on a topic (READ,
// WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS), one
// bit per ACL operation code.
const topicOperations = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<11

// handleDescribeTopicPartitions answers DescribeTopicPartitions (KIP-966,
// kafka-topics.sh --describe's request since Kafka 3.7) as Kafka's handler does:
// the topics asked for, or every topic (internal ones included) when none is,
// sorted by name, from the cursor's topic and partition on, with at most
// min(ResponsePartitionLimit, 2000) partitions; NextCursor names where the next
// request starts when the limit cut the answer. A cursor topic missing from the
// topics asked for is INVALID_REQUEST for every topic (Kafka's error response); an unknown
// topic asked for is UNKNOWN_TOPIC_OR_PARTITION. Each partition is as Metadata
// gives it, with its eligible leader replicas (KIP-966); the last known ELR is
// not kept (empty).
func handleDescribeTopicPartitions(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeTopicPartitionsRequest)
	resp := kmsg.NewPtrDescribeTopicPartitionsResponse()
	resp.Version = req.Version
	nodes, err := r.brokerNodes()
	if err != nil {
		return nil, err
	}
	listed := map[replica.BrokerID]bool{}
	for _, n := range nodes {
		listed[n.id] = n.online
	}

	cursorTopic, firstPartition := "", int32(0)
	if req.Cursor != nil {
		cursorTopic, firstPartition = req.Cursor.Topic, max(req.Cursor.Partition, 0)
	}
	all := len(req.Topics) == 0
	var names []string
	if all {
		names, err = r.store.ListTopics()
		if err != nil {
			return nil, err
		}
		for _, internal := range []string{log.OffsetsTopic, log.TransactionStateTopic} {
			if _, err := r.store.DescribeTopic(internal); err == nil {
				names = append(names, internal)
			}
		}
	} else {
		for _, t := range req.Topics {
			names = append(names, t.Topic)
		}
	}
	names = slices.DeleteFunc(names, func(name string) bool { return name < cursorTopic })
	slices.Sort(names)
	names = slices.Compact(names)
	if !all && req.Cursor != nil && !slices.Contains(names, cursorTopic) {
		// Kafka's InvalidRequestException, answered as its error response: every
		// topic asked for with the error, nothing else.
		for _, t := range req.Topics {
			topic := kmsg.NewDescribeTopicPartitionsResponseTopic()
			topic.Topic, topic.ErrorCode = kmsg.StringPtr(t.Topic), kerr.InvalidRequest.Code
			resp.Topics = append(resp.Topics, topic)
		}
		return resp, nil
	}
	if len(names) == 0 || names[0] != cursorTopic {
		firstPartition = 0 // the cursor's topic is gone: start at the next one
	}

	remaining := min(int(req.ResponsePartitionLimit), maxDescribeTopicPartitions)
	for i, name := range names {
		if remaining <= 0 {
			resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name}
			break
		}
		topic := kmsg.NewDescribeTopicPartitionsResponseTopic()
		topic.Topic = kmsg.StringPtr(name)
		d, err := r.store.DescribeTopic(name)
		switch {
		case errors.Is(err, log.ErrUnknownTopic) || log.ValidateTopicName(name) != nil:
			if !all {
				topic.ErrorCode = kerr.UnknownTopicOrPartition.Code
				resp.Topics = append(resp.Topics, topic)
			}
			continue
		case err != nil:
			topic.ErrorCode, _ = errorCode(err)
			resp.Topics = append(resp.Topics, topic)
			continue
		}
		topic.TopicID, topic.IsInternal, topic.AuthorizedOperations = d.ID, d.Internal, topicOperations
		start := int32(0)
		if i == 0 {
			start = firstPartition
		}
		for _, p := range d.Partitions {
			if p.Partition < start {
				continue
			}
			if remaining == 0 {
				resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name, Partition: p.Partition}
				break
			}
			m := partitionMetadata(p, listed)
			part := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
			part.ErrorCode, part.Partition, part.LeaderID, part.LeaderEpoch = m.ErrorCode, m.Partition, m.Leader, m.LeaderEpoch
			part.Replicas, part.ISR, part.OfflineReplicas = m.Replicas, m.ISR, m.OfflineReplicas
			part.EligibleLeaderReplicas, part.LastKnownELR = brokerIDs(p.ELR), []int32{}
			topic.Partitions = append(topic.Partitions, part)
			remaining--
		}
		resp.Topics = append(resp.Topics, topic)
		if resp.NextCursor != nil {
			break
		}
	}
	return resp, nil
}
