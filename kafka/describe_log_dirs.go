package kafka

import (
	"slices"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDescribeLogDirs answers DescribeLogDirs: one directory per broker of the
// store (log.Store.Brokers; an offline broker's is KAFKA_STORAGE_ERROR), each
// with the partitions it holds a replica of, all topics' or those asked for
// (unknown ones are left out, as on Kafka). A partition's size is the bytes of
// its leader's segment files (log.PartitionInfo.Bytes: the store does not tell a
// follower's own size); its offset lag is 0 and it is never a future replica
// (strata does not move replicas between directories). The volume's total and
// usable bytes (v4+) are -1, unknown.
//
// On a listener of Serve (the whole store) each answer describes every broker's
// directory; on ServeBroker's, the broker's own only, as a Kafka broker
// describes its own log directories.
func handleDescribeLogDirs(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeLogDirsRequest)
	resp := kmsg.NewPtrDescribeLogDirsResponse()
	resp.Version = req.Version
	brokers, err := r.store.Brokers()
	if err != nil {
		return nil, err
	}
	var topics []log.TopicDescription
	if req.Topics == nil {
		for _, t := range r.store.Stats().Topics {
			if d, err := r.store.DescribeTopic(t.Name); err == nil {
				topics = append(topics, d)
			}
		}
	} else {
		for _, t := range req.Topics {
			d, err := r.store.DescribeTopic(t.Topic)
			if err != nil {
				continue
			}
			d.Partitions = slices.DeleteFunc(d.Partitions, func(p log.PartitionInfo) bool {
				return !slices.Contains(t.Partitions, p.Partition)
			})
			topics = append(topics, d)
		}
	}
	for _, b := range brokers {
		if r.broker != nil && b.ID != r.broker.ID() {
			continue
		}
		dir := kmsg.NewDescribeLogDirsResponseDir()
		dir.Dir = b.Dir
		if !b.Online {
			dir.ErrorCode = kerr.KafkaStorageError.Code
			resp.Dirs = append(resp.Dirs, dir)
			continue
		}
		for _, d := range topics {
			topic := kmsg.NewDescribeLogDirsResponseDirTopic()
			topic.Topic = d.Name
			for _, p := range d.Partitions {
				if !slices.Contains(p.Replicas, b.ID) {
					continue
				}
				partition := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
				partition.Partition, partition.Size = p.Partition, p.Bytes
				topic.Partitions = append(topic.Partitions, partition)
			}
			if len(topic.Partitions) > 0 {
				dir.Topics = append(dir.Topics, topic)
			}
		}
		resp.Dirs = append(resp.Dirs, dir)
	}
	return resp, nil
}
