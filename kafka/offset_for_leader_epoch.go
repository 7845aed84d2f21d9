package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleOffsetForLeaderEpoch answers OffsetForLeaderEpoch (KIP-101, KIP-320): for
// each partition, the largest leader epoch at or below the one asked and the
// offset where it ended, from the leader's epoch checkpoint, which clients use to
// find where their log diverged after a failover.
func handleOffsetForLeaderEpoch(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
	resp.Version = req.Version
	for _, t := range req.Topics {
		topic := kmsg.NewOffsetForLeaderEpochResponseTopic()
		topic.Topic = t.Topic
		for _, p := range t.Partitions {
			part := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			part.Partition, part.LeaderEpoch, part.EndOffset = p.Partition, -1, -1
			tp := log.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			epoch, end, err := r.partitions().EndOffsetForEpoch(r.ctx, tp, p.LeaderEpoch)
			switch {
			case err != nil:
				part.ErrorCode, _ = errorCode(err)
			case p.CurrentLeaderEpoch >= 0 && p.CurrentLeaderEpoch != currentEpoch(r.store, tp):
				part.ErrorCode = kerr.FencedLeaderEpoch.Code
				if p.CurrentLeaderEpoch > currentEpoch(r.store, tp) {
					part.ErrorCode = kerr.UnknownLeaderEpoch.Code
				}
			default:
				part.LeaderEpoch, part.EndOffset = epoch, end
			}
			topic.Partitions = append(topic.Partitions, part)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

// currentEpoch returns tp's leader epoch, or -1 if it cannot tell.
func currentEpoch(store *log.Store, tp log.TopicPartition) int32 {
	d, err := store.DescribeTopic(tp.Topic)
	if err != nil || int(tp.Partition) >= len(d.Partitions) {
		return -1
	}
	return d.Partitions[tp.Partition].LeaderEpoch
}
