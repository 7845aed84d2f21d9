package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDeleteRecords answers DeleteRecords: each partition's start offset moves
// up to the given offset (-1: the high watermark), and the response gives the
// start offset (low watermark) after it. On a listener of one broker
// (ServeBroker), a partition it does not lead is NOT_LEADER_OR_FOLLOWER.
func handleDeleteRecords(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := kmsg.NewPtrDeleteRecordsResponse()
	resp.Version = req.Version
	for _, t := range req.Topics {
		topic := kmsg.NewDeleteRecordsResponseTopic()
		topic.Topic = t.Topic
		for _, p := range t.Partitions {
			partition := kmsg.NewDeleteRecordsResponseTopicPartition()
			partition.Partition = p.Partition
			partition.LowWatermark, partition.ErrorCode = deleteRecords(r, log.TopicPartition{Topic: t.Topic, Partition: p.Partition}, p.Offset)
			topic.Partitions = append(topic.Partitions, partition)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

// deleteRecords deletes the records of tp below offset and returns its new start
// offset and the error code.
func deleteRecords(r *request, tp log.TopicPartition, offset int64) (int64, int16) {
	if r.broker != nil { // sent to the leader, as Kafka's are
		d, err := r.store.DescribeTopic(tp.Topic)
		switch {
		case err != nil:
			code, _ := errorCode(err)
			return -1, code
		case tp.Partition < 0 || int(tp.Partition) >= len(d.Partitions):
			return -1, kerr.UnknownTopicOrPartition.Code
		}
		if err := r.notLeader(tp, d.Partitions[tp.Partition].Leader); err != nil {
			code, _ := errorCode(err)
			return -1, code
		}
	}
	if offset == -1 {
		ends, err := r.store.ListEndOffsets(tp.Topic)
		if err != nil {
			code, _ := errorCode(err)
			return -1, code
		}
		end, ok := ends[tp]
		if !ok {
			return -1, kerr.UnknownTopicOrPartition.Code
		}
		offset = end
	}
	if offset < 0 {
		return -1, kerr.OffsetOutOfRange.Code
	}
	if err := r.store.DeleteRecords(r.ctx, tp, offset); err != nil {
		code, _ := errorCode(err)
		return -1, code
	}
	starts, err := r.store.ListStartOffsets(tp.Topic)
	if err != nil {
		code, _ := errorCode(err)
		return -1, code
	}
	return starts[tp], 0
}
