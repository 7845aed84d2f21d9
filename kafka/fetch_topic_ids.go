package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// resolveFetchTopicIDs names the topics of a Fetch request of v13+ (which names
// them by topic ID only) after their IDs, and takes those whose ID no topic has
// out of the request, returning them for answerUnknownTopicIDs. If no topic
// asked for is left, the request does not wait (MaxWaitMillis 0): as on Kafka, a
// fetch of unknown topic IDs only is answered at once.
func resolveFetchTopicIDs(store *log.Store, req *kmsg.FetchRequest) []kmsg.FetchRequestTopic {
	if req.Version < 13 {
		return nil
	}
	var unknown []kmsg.FetchRequestTopic
	known := req.Topics[:0]
	for _, t := range req.Topics {
		name, ok := topicNameOf(store, t.TopicID)
		if !ok {
			unknown = append(unknown, t)
			continue
		}
		t.Topic = name
		known = append(known, t)
	}
	req.Topics = known
	if len(known) == 0 && len(unknown) > 0 {
		req.MaxWaitMillis = 0
	}
	return unknown
}

// answerUnknownTopicIDs adds to resp the topics that resolveFetchTopicIDs took
// out of the request, each partition with UNKNOWN_TOPIC_ID.
func answerUnknownTopicIDs(resp *kmsg.FetchResponse, unknown []kmsg.FetchRequestTopic) {
	for _, t := range unknown {
		topic := kmsg.NewFetchResponseTopic()
		topic.TopicID = t.TopicID
		for _, p := range t.Partitions {
			part := kmsg.NewFetchResponseTopicPartition()
			part.Partition, part.ErrorCode = p.Partition, kerr.UnknownTopicID.Code
			part.HighWatermark, part.LastStableOffset, part.LogStartOffset = -1, -1, -1
			part.PreferredReadReplica = -1
			part.RecordBatches = []byte{} // empty, not null (see fillFetch)
			topic.Partitions = append(topic.Partitions, part)
		}
		resp.Topics = append(resp.Topics, topic)
	}
}

// dropRecreatedTopics answers UNKNOWN_TOPIC_ID, without batches, for each topic
// of a Fetch v13+ whose ID no longer names it: deleted (and maybe made again
// under its name, with a new ID) between resolveFetchTopicIDs and the read,
// which went by name; its batches would be another topic's under the ID the
// client asked for. It releases their results and returns the bytes dropped.
func dropRecreatedTopics(store *log.Store, req *kmsg.FetchRequest, resp *fetchResponse) int {
	if req.Version < 13 {
		return 0
	}
	dropped, k := 0, 0
	for i := range resp.Topics {
		t := &resp.Topics[i]
		gone := topicIDOf(store, t.Topic) != t.TopicID
		for j := range t.Partitions {
			if gone {
				p := &t.Partitions[j]
				dropped += len(p.RecordBatches)
				resp.held[k].result.Release()
				resp.held[k] = heldBatches{}
				p.ErrorCode = kerr.UnknownTopicID.Code
				p.HighWatermark, p.LastStableOffset, p.LogStartOffset = -1, -1, -1
				p.AbortedTransactions, p.RecordBatches = nil, []byte{}
			}
			k++
		}
	}
	return dropped
}
