package group

import (
	"maps"
	"slices"
)

// RangeAssignor is Kafka's range assignor: topic by topic, the partitions are cut
// into consecutive ranges, one per subscribed member in member order, the first
// members getting one more when they do not divide evenly. With several topics the
// first members get more in total; members subscribed to the same topics get the
// same partition numbers of each (useful for joins across co-partitioned topics).
// Eager only.
type RangeAssignor struct{}

// Name returns "range".
func (RangeAssignor) Name() string { return AssignorRange }

// Protocol returns Eager.
func (RangeAssignor) Protocol() RebalanceProtocol { return Eager }

// Assign implements Assignor.
func (RangeAssignor) Assign(members []MemberSubscription, partitions map[string]int) (map[string][]TopicPartition, error) {
	out := emptyAssignment(members)
	subs := subscribers(members, partitions)
	for _, topic := range slices.Sorted(maps.Keys(subs)) {
		consumers := subs[topic]
		n := partitions[topic]
		per, extra := n/len(consumers), n%len(consumers)
		for i, m := range consumers {
			start := per*i + min(i, extra)
			length := per
			if i < extra {
				length++
			}
			for p := start; p < start+length; p++ {
				out[m.MemberID] = append(out[m.MemberID], TopicPartition{Topic: topic, Partition: int32(p)})
			}
		}
	}
	return out, nil
}
