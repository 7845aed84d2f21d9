package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchWaitPositions returns what a long poll of req waits on, given resp, the
// answer filled for it: the fetch offset of every partition of req but those of
// an unknown topic (Kafka's KafkaApis leaves them out of the fetch it hands the
// ReplicaManager, and answers their error when the wait ends). now is true if the
// fetch must be answered at once instead: reading a partition failed (any other
// error: Kafka's ReplicaManager answers at once on an error reading data), or no
// partition is left to wait on.
func fetchWaitPositions(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) (positions map[log.TopicPartition]int64, now bool) {
	positions = map[log.TopicPartition]int64{}
	for i, t := range req.Topics {
		for j, p := range t.Partitions {
			code := resp.Topics[i].Partitions[j].ErrorCode
			switch code {
			case 0:
				positions[log.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = p.FetchOffset
			case kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicID.Code:
			default:
				return nil, true
			}
		}
	}
	return positions, len(positions) == 0
}
