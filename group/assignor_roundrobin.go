package group

import (
	"maps"
	"slices"
)

// RoundRobinAssignor is Kafka's round-robin assignor: all partitions of all
// subscribed topics, sorted by topic and partition, are dealt to the members in
// member order, one each in turn, skipping members not subscribed to the
// partition's topic. With identical subscriptions the members' counts differ by at
// most one. Eager only.
type RoundRobinAssignor struct{}

// Name returns "roundrobin".
func (RoundRobinAssignor) Name() string { return AssignorRoundRobin }

// Protocol returns Eager.
func (RoundRobinAssignor) Protocol() RebalanceProtocol { return Eager }

// Assign implements Assignor.
func (RoundRobinAssignor) Assign(members []MemberSubscription, partitions map[string]int) (map[string][]TopicPartition, error) {
	out := emptyAssignment(members)
	subs := subscribers(members, partitions)
	sorted := slices.SortedFunc(slices.Values(members), compareMembers)
	subscribed := make(map[string]map[string]bool, len(sorted))
	for topic, consumers := range subs {
		for _, m := range consumers {
			if subscribed[m.MemberID] == nil {
				subscribed[m.MemberID] = make(map[string]bool)
			}
			subscribed[m.MemberID][topic] = true
		}
	}
	next := 0
	for _, topic := range slices.Sorted(maps.Keys(subs)) {
		for p := range partitions[topic] {
			for !subscribed[sorted[next%len(sorted)].MemberID][topic] {
				next++
			}
			id := sorted[next%len(sorted)].MemberID
			next++
			out[id] = append(out[id], TopicPartition{Topic: topic, Partition: int32(p)})
		}
	}
	return out, nil
}
