package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Election types of ElectLeaders (v1+; v0 is preferred).
const (
	electionPreferred int8 = 0
	electionUnclean   int8 = 1
)

// handleElectLeaders answers ElectLeaders, per partition as Kafka's controller
// does:
//   - preferred: a partition led by its preferred replica is
//     ELECTION_NOT_NEEDED; the others go through
//     log.Store.ElectPreferredLeadersOf; one still not led by it (its preferred
//     replica offline or out of sync) is PREFERRED_LEADER_NOT_AVAILABLE.
//   - unclean: a partition with a leader is ELECTION_NOT_NEEDED; one without is
//     ELIGIBLE_LEADERS_NOT_AVAILABLE: strata's controller elects an out-of-sync
//     replica on its own where the topic's unclean.leader.election.enable allows,
//     and cannot be asked to.
//
// An unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION. A null list asks
// for every partition, and then, as on Kafka, those whose election was not
// needed are left out. The timeout is not used: the election is done when the
// answer goes out.
func handleElectLeaders(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ElectLeadersRequest)
	resp := kmsg.NewPtrElectLeadersResponse()
	resp.Version = req.Version
	all := req.Topics == nil
	asked := req.Topics
	if all {
		for _, t := range r.store.Stats().Topics {
			d, err := r.store.DescribeTopic(t.Name)
			if err != nil {
				continue
			}
			topic := kmsg.NewElectLeadersRequestTopic()
			topic.Topic = t.Name
			for _, p := range d.Partitions {
				topic.Partitions = append(topic.Partitions, p.Partition)
			}
			asked = append(asked, topic)
		}
	}

	before := map[string]log.TopicDescription{}
	var toElect []log.TopicPartition
	for _, t := range asked {
		d, err := r.store.DescribeTopic(t.Topic)
		if err != nil {
			continue
		}
		before[t.Topic] = d
		for _, p := range t.Partitions {
			if info, ok := partitionInfo(d, p); ok && info.Leader != preferredReplica(info) && req.ElectionType == electionPreferred {
				toElect = append(toElect, log.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	var electErr error
	if len(toElect) > 0 {
		_, electErr = r.store.ElectPreferredLeadersOf(toElect...)
	}

	for _, t := range asked {
		topic := kmsg.NewElectLeadersResponseTopic()
		topic.Topic = t.Topic
		d, known := before[t.Topic]
		after, _ := r.store.DescribeTopic(t.Topic)
		for _, p := range t.Partitions {
			result := kmsg.NewElectLeadersResponseTopicPartition()
			result.Partition = p
			info, ok := partitionInfo(d, p)
			now, _ := partitionInfo(after, p)
			switch {
			case !known || !ok:
				result.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case req.ElectionType == electionUnclean && info.Leader != replica.NoBroker:
				result.ErrorCode = kerr.ElectionNotNeeded.Code
			case req.ElectionType == electionUnclean:
				result.ErrorCode = kerr.EligibleLeadersNotAvailable.Code
				result.ErrorMessage = message("strata's controller elects an out-of-sync replica itself where unclean.leader.election.enable allows; it cannot be asked to")
			case req.ElectionType != electionPreferred:
				result.ErrorCode = kerr.InvalidRequest.Code
				result.ErrorMessage = message("unknown election type")
			case info.Leader == preferredReplica(info):
				result.ErrorCode = kerr.ElectionNotNeeded.Code
			case electErr != nil:
				result.ErrorCode, result.ErrorMessage = errorCode(electErr)
			case now.Leader != preferredReplica(now):
				result.ErrorCode = kerr.PreferredLeaderNotAvailable.Code
			}
			if all && result.ErrorCode == kerr.ElectionNotNeeded.Code {
				continue
			}
			if result.ErrorCode != 0 && result.ErrorMessage == nil {
				result.ErrorMessage = message(kerr.ErrorForCode(result.ErrorCode).Error())
			}
			topic.Partitions = append(topic.Partitions, result)
		}
		if len(topic.Partitions) > 0 || !all {
			resp.Topics = append(resp.Topics, topic)
		}
	}
	return resp, nil
}

// partitionInfo returns partition p of d.
func partitionInfo(d log.TopicDescription, p int32) (log.PartitionInfo, bool) {
	if p < 0 || int(p) >= len(d.Partitions) {
		return log.PartitionInfo{}, false
	}
	return d.Partitions[p], true
}

// preferredReplica returns the preferred leader of a partition, its first
// replica (replica.NoBroker if it has none).
func preferredReplica(p log.PartitionInfo) replica.BrokerID {
	if len(p.Replicas) == 0 {
		return replica.NoBroker
	}
	return p.Replicas[0]
}
