package kafka

import (
	"slices"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The leader hints of KIP-951: a partition answered NOT_LEADER_OR_FOLLOWER
// carries its current leader and leader epoch, and the response the leaders'
// addresses (NodeEndpoints), so that a client moves to the new leader without
// waiting for a metadata refresh. Kafka sends them in Produce v10+ and Fetch
// v16+; the Fetch response has the CurrentLeader and NodeEndpoints tagged fields
// from v12 (the first flexible version), where strata sends them too: a client
// ignores the tagged fields it does not know. They are sent on the listeners of
// ServeBroker only: on Serve's, every partition is served by its leader.

// leaderHint is the current leader of a partition with its address.
type leaderHint struct {
	leader, epoch int32
	host          string
	port          int32
}

// leaderHints finds the hints of the partitions of topics answered
// NOT_LEADER_OR_FOLLOWER; it describes each topic once.
type leaderHints struct {
	r      *request
	topics map[string]log.TopicDescription
	nodes  []int32 // the leaders hinted, in order
	hints  map[int32]leaderHint
}

// hint returns the current leader of tp, ok false if it has none with an
// address.
func (h *leaderHints) hint(tp log.TopicPartition) (leaderHint, bool) {
	if h.topics == nil {
		h.topics, h.hints = map[string]log.TopicDescription{}, map[int32]leaderHint{}
	}
	d, described := h.topics[tp.Topic]
	if !described {
		var err error
		if d, err = h.r.store.DescribeTopic(tp.Topic); err != nil {
			return leaderHint{}, false
		}
		h.topics[tp.Topic] = d
	}
	if tp.Partition < 0 || int(tp.Partition) >= len(d.Partitions) {
		return leaderHint{}, false
	}
	p := d.Partitions[tp.Partition]
	if p.Offline != nil || p.Leader == replica.NoBroker {
		return leaderHint{}, false
	}
	host, port, ok := h.r.server.brokerEndpoint(p.Leader, h.r.conn.nc)
	if !ok {
		return leaderHint{}, false
	}
	hint := leaderHint{leader: int32(p.Leader), epoch: p.LeaderEpoch, host: host, port: port}
	if _, seen := h.hints[hint.leader]; !seen {
		h.nodes = append(h.nodes, hint.leader)
	}
	h.hints[hint.leader] = hint
	return hint, true
}

// addProduceLeaderHints adds the KIP-951 hints to resp (v10+).
func (r *request) addProduceLeaderHints(resp *kmsg.ProduceResponse) {
	if r.broker == nil || resp.Version < 10 {
		return
	}
	h := leaderHints{r: r}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		name := h.topicName(resp.Version, t.Topic, t.TopicID)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			h.set(name, p.Partition, p.ErrorCode, &p.CurrentLeader.LeaderID, &p.CurrentLeader.LeaderEpoch)
		}
	}
	h.brokers(func(id int32, host string, port int32) {
		resp.Brokers = append(resp.Brokers, kmsg.ProduceResponseBroker{NodeID: id, Host: host, Port: port})
	})
}

// addFetchLeaderHints adds the KIP-951 hints to resp (v12+).
func (r *request) addFetchLeaderHints(resp *kmsg.FetchResponse) {
	if r.broker == nil || resp.Version < 12 {
		return
	}
	h := leaderHints{r: r}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		name := h.topicName(resp.Version, t.Topic, t.TopicID)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			h.set(name, p.Partition, p.ErrorCode, &p.CurrentLeader.LeaderID, &p.CurrentLeader.LeaderEpoch)
		}
	}
	h.brokers(func(id int32, host string, port int32) {
		resp.Brokers = append(resp.Brokers, kmsg.FetchResponseBroker{NodeID: id, Host: host, Port: port})
	})
}

// topicName is the name of a response's topic: name, or from v13 on (Produce
// and Fetch name topics by ID) the topic of id.
func (h *leaderHints) topicName(version int16, name string, id [16]byte) string {
	if version >= 13 {
		name, _ = topicNameOf(h.r.store, id)
	}
	return name
}

// set sets the current leader and epoch of a partition answered
// NOT_LEADER_OR_FOLLOWER (code), where it has one with an address.
func (h *leaderHints) set(topic string, partition int32, code int16, leader, epoch *int32) {
	if code != kerr.NotLeaderForPartition.Code {
		return
	}
	if hint, ok := h.hint(log.TopicPartition{Topic: topic, Partition: partition}); ok {
		*leader, *epoch = hint.leader, hint.epoch
	}
}

// brokers calls add with the address of each leader hinted, by node id.
func (h *leaderHints) brokers(add func(id int32, host string, port int32)) {
	for _, id := range slices.Sorted(slices.Values(h.nodes)) {
		add(id, h.hints[id].host, h.hints[id].port)
	}
}
