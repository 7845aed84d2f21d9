package group

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// Names of the built-in assignors: Kafka's, so that members of one group agree on
// them whatever their client.
const (
	AssignorRange             = "range"
	AssignorRoundRobin        = "roundrobin"
	AssignorSticky            = "sticky"
	AssignorCooperativeSticky = "cooperative-sticky"
)

// RebalanceProtocol says how a member gives up partitions in a rebalance.
type RebalanceProtocol int

const (
	// Eager: a member revokes every partition before it rejoins, and gets its new
	// assignment afterwards; nothing is consumed during a rebalance.
	Eager RebalanceProtocol = iota
	// Cooperative (incremental, KIP-429): a member keeps its partitions while it
	// rejoins and revokes only those it loses; a partition moving from one member
	// to another is revoked in one rebalance and assigned in the next, so that no
	// two members ever own it at once. An assignor supporting it supports Eager too.
	Cooperative
)

// String returns "eager" or "cooperative".
func (p RebalanceProtocol) String() string {
	switch p {
	case Eager:
		return "eager"
	case Cooperative:
		return "cooperative"
	}
	return fmt.Sprintf("RebalanceProtocol(%d)", int(p))
}

// Assignor computes a generation's assignment: which member consumes which
// partitions. In the classic protocol the group's leader runs it (for in-process
// members, the Member that leads); every member lists the assignors it supports and
// the coordinator selects one all support. Assign must be deterministic and must
// never give a partition to two members; with Cooperative it must also never give
// a member a partition that another member still owns (Subscription.Owned).
type Assignor interface {
	// Name is the protocol name members announce (for example "range").
	Name() string
	// Protocol is Cooperative if the assignor supports cooperative rebalancing.
	Protocol() RebalanceProtocol
	// Assign returns the partitions of each member, by member id. partitions holds
	// the partition count of every subscribed topic that exists. members come
	// sorted by member id.
	Assign(members []MemberSubscription, partitions map[string]int) (map[string][]TopicPartition, error)
}

// UserDataAssignor is an Assignor that wants a member to send it data of its own in
// its subscription (Subscription.UserData), such as the sticky assignor's record of
// the member's previous assignment.
type UserDataAssignor interface {
	Assignor
	// UserData returns the user data of a member whose last assignment was previous,
	// in generation.
	UserData(previous []TopicPartition, generation int32) []byte
}

// MemberSubscription is one member as an assignor sees it.
type MemberSubscription struct {
	MemberID   string
	InstanceID string
	Subscription
}

// compareMembers orders members as Kafka's assignors do: static members first, by
// instance id, then dynamic ones by member id.
func compareMembers(a, b MemberSubscription) int {
	switch {
	case a.InstanceID != "" && b.InstanceID != "":
		if c := cmp.Compare(a.InstanceID, b.InstanceID); c != 0 {
			return c
		}
	case a.InstanceID != "":
		return -1
	case b.InstanceID != "":
		return 1
	}
	return cmp.Compare(a.MemberID, b.MemberID)
}

// subscribers returns, for every topic with partitions, the members subscribed to
// it in assignor order.
func subscribers(members []MemberSubscription, partitions map[string]int) map[string][]MemberSubscription {
	sorted := slices.SortedFunc(slices.Values(members), compareMembers)
	out := make(map[string][]MemberSubscription)
	for _, m := range sorted {
		for _, topic := range uniqueTopics(m.Topics) {
			if partitions[topic] > 0 {
				out[topic] = append(out[topic], m)
			}
		}
	}
	return out
}

func uniqueTopics(topics []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(topics)))
}

// emptyAssignment returns a map with an empty assignment for every member.
func emptyAssignment(members []MemberSubscription) map[string][]TopicPartition {
	out := make(map[string][]TopicPartition, len(members))
	for _, m := range members {
		out[m.MemberID] = []TopicPartition{}
	}
	return out
}

// rebalanceProtocolOf returns the protocol a member with these assignors follows:
// cooperative only if every one of them supports it, since the group may select any
// (Kafka's rule).
func rebalanceProtocolOf(assignors []Assignor) RebalanceProtocol {
	for _, a := range assignors {
		if a.Protocol() != Cooperative {
			return Eager
		}
	}
	return Cooperative
}

// BuiltinAssignor returns the built-in assignor with the given name.
func BuiltinAssignor(name string) (Assignor, bool) {
	switch name {
	case AssignorRange:
		return RangeAssignor{}, true
	case AssignorRoundRobin:
		return RoundRobinAssignor{}, true
	case AssignorSticky:
		return StickyAssignor{}, true
	case AssignorCooperativeSticky:
		return CooperativeStickyAssignor{}, true
	}
	return nil, false
}

// checkAssignment verifies an assignor's result: only members of the generation,
// only existing partitions of topics the member subscribes to, and no partition
// twice. A violation is a bug of the assignor; it is refused rather than handed out.
func checkAssignment(name string, members []MemberSubscription, partitions map[string]int, assigned map[string][]TopicPartition) error {
	subscribed := make(map[string]map[string]bool, len(members))
	for _, m := range members {
		topics := make(map[string]bool, len(m.Topics))
		for _, t := range m.Topics {
			topics[t] = true
		}
		subscribed[m.MemberID] = topics
	}
	owner := make(map[TopicPartition]string)
	for _, id := range slices.Sorted(maps.Keys(assigned)) {
		topics, ok := subscribed[id]
		if !ok {
			return fmt.Errorf("%w: assignor %q assigned partitions to %q, not a member", ErrInvalidArgument, name, id)
		}
		for _, tp := range assigned[id] {
			if !topics[tp.Topic] || tp.Partition < 0 || int(tp.Partition) >= partitions[tp.Topic] {
				return fmt.Errorf("%w: assignor %q assigned %v to %q, which does not subscribe to it or it does not exist", ErrInvalidArgument, name, tp, id)
			}
			if other, dup := owner[tp]; dup {
				return fmt.Errorf("%w: assignor %q assigned %v to both %q and %q", ErrInvalidArgument, name, tp, other, id)
			}
			owner[tp] = id
		}
	}
	return nil
}
