package kafka

import (
	"errors"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleMetadata answers Metadata: the online brokers (a stopped one is left
// out, as Kafka leaves out a fenced broker), each at its address (brokerNodes:
// on a listener of Serve all at its advertised address, on ServeBroker's each at
// its own), and the topics asked for with their partitions' leaders, replicas,
// ISR and leader epochs as the store reports them, and their topic IDs (v10+);
// the replicas on brokers not listed are offline replicas, as Kafka reports
// them. Topics are never created by Metadata (auto-create is off): an unknown
// one is UNKNOWN_TOPIC_OR_PARTITION, an unknown topic ID (a topic asked by ID,
// v10+) UNKNOWN_TOPIC_ID.
func handleMetadata(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.MetadataRequest)
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = req.Version
	resp.ClusterID = &r.server.opts.ClusterID
	nodes, err := r.brokerNodes()
	if err != nil {
		return nil, err
	}
	resp.ControllerID = controllerID(nodes)
	listed := map[replica.BrokerID]bool{}
	for _, n := range nodes {
		if n.online {
			resp.Brokers = append(resp.Brokers, kmsg.MetadataResponseBroker{NodeID: int32(n.id), Host: n.host, Port: n.port})
			listed[n.id] = true
		}
	}

	// v0: an empty list asks for every topic; v1+: a null one does.
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		names, err := r.store.ListTopics()
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			resp.Topics = append(resp.Topics, describeTopicMetadata(r.store, name, listed))
		}
		// The internal topics too, marked IsInternal, as Kafka lists them (the
		// store's ListTopics leaves them out).
		for _, name := range []string{log.OffsetsTopic, log.TransactionStateTopic} {
			if _, err := r.store.DescribeTopic(name); err == nil {
				resp.Topics = append(resp.Topics, describeTopicMetadata(r.store, name, listed))
			}
		}
		return resp, nil
	}
	for _, t := range req.Topics {
		if t.Topic == nil { // v10+: asked by topic ID
			name, ok := topicNameOf(r.store, t.TopicID)
			if !ok {
				topic := kmsg.NewMetadataResponseTopic()
				topic.TopicID = t.TopicID
				topic.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, topic)
				continue
			}
			t.Topic = &name
		}
		resp.Topics = append(resp.Topics, describeTopicMetadata(r.store, *t.Topic, listed))
	}
	return resp, nil
}

// describeTopicMetadata returns the Metadata of the named topic; listed are the
// brokers the response lists.
func describeTopicMetadata(store *log.Store, name string, listed map[replica.BrokerID]bool) kmsg.MetadataResponseTopic {
	topic := kmsg.NewMetadataResponseTopic()
	topic.Topic = &name
	if err := log.ValidateTopicName(name); err != nil {
		topic.ErrorCode = kerr.InvalidTopicException.Code
		return topic
	}
	d, err := store.DescribeTopic(name)
	if err != nil {
		if errors.Is(err, log.ErrUnknownTopic) {
			topic.ErrorCode = kerr.UnknownTopicOrPartition.Code
		} else {
			topic.ErrorCode, _ = errorCode(err)
		}
		return topic
	}
	topic.IsInternal = d.Internal
	topic.TopicID = d.ID
	for _, p := range d.Partitions {
		topic.Partitions = append(topic.Partitions, partitionMetadata(p, listed))
	}
	return topic
}

// partitionMetadata returns a partition's Metadata: its leader (-1 with
// LEADER_NOT_AVAILABLE if it has none, LISTENER_NOT_FOUND if the leader is not
// listed), epoch, replicas, ISR and offline replicas; listed are the brokers the
// response lists.
func partitionMetadata(p log.PartitionInfo, listed map[replica.BrokerID]bool) kmsg.MetadataResponseTopicPartition {
	partition := kmsg.NewMetadataResponseTopicPartition()
	partition.Partition = p.Partition
	partition.Leader = int32(p.Leader)
	partition.LeaderEpoch = p.LeaderEpoch
	partition.Replicas = brokerIDs(p.Replicas)
	partition.ISR = brokerIDs(p.ISR)
	partition.OfflineReplicas = []int32{}
	switch {
	case p.Offline != nil || p.Leader == replica.NoBroker:
		partition.ErrorCode = kerr.LeaderNotAvailable.Code
		partition.Leader = -1
		partition.LeaderEpoch = -1
	case !listed[p.Leader]: // led by a broker without an address: Kafka's answer for a leader without the listener
		partition.ErrorCode = kerr.ListenerNotFound.Code
		partition.Leader = -1
		partition.LeaderEpoch = -1
	}
	if p.Offline != nil {
		partition.OfflineReplicas = brokerIDs(p.Replicas)
	} else {
		for _, id := range p.Replicas {
			if !listed[id] { // stopped, or without an address
				partition.OfflineReplicas = append(partition.OfflineReplicas, int32(id))
			}
		}
	}
	return partition
}

// brokerIDs converts the store's broker IDs to Kafka's node IDs.
func brokerIDs(ids []replica.BrokerID) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
