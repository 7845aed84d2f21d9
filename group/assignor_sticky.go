package group

import (
	"cmp"
	"maps"
	"slices"
)

// StickyAssignor is Kafka's sticky assignor: the assignment is balanced (with
// identical subscriptions, the members' counts differ by at most one; otherwise no
// partition can move to a member with two fewer) and, within that, moves as few
// partitions as possible from the members' previous assignments. Eager: members
// revoke everything before they rejoin and send their previous assignment as user
// data (UserData), which the leader reads back.
type StickyAssignor struct{}

// Name returns "sticky".
func (StickyAssignor) Name() string { return AssignorSticky }

// Protocol returns Eager.
func (StickyAssignor) Protocol() RebalanceProtocol { return Eager }

// UserData encodes the member's previous assignment and its generation (Kafka's
// StickyAssignorUserData v1).
func (StickyAssignor) UserData(previous []TopicPartition, generation int32) []byte {
	return encodeStickyUserData(previous, generation)
}

// Assign implements Assignor. A member's previous partitions are its Owned ones if
// it has any, or else those of its user data.
func (StickyAssignor) Assign(members []MemberSubscription, partitions map[string]int) (map[string][]TopicPartition, error) {
	return stickyAssign(members, partitions, func(m MemberSubscription) ([]TopicPartition, int32) {
		if len(m.Owned) > 0 {
			return m.Owned, m.Generation
		}
		if previous, generation, ok := decodeStickyUserData(m.UserData); ok {
			return previous, generation
		}
		return nil, noGeneration
	}), nil
}

// CooperativeStickyAssignor is Kafka's cooperative-sticky assignor: the sticky
// assignment, computed from the partitions members own now (Subscription.Owned),
// from which every partition still owned by another member is withheld. Its owner
// finds it missing from its own assignment, revokes it and rejoins; the next
// rebalance, where nobody owns it, assigns it. So members keep consuming what does
// not move, and no partition ever has two owners (KIP-429). Supports both
// protocols; with eager members (which own nothing while they rejoin) it behaves
// as the sticky assignor without their history.
type CooperativeStickyAssignor struct{}

// Name returns "cooperative-sticky".
func (CooperativeStickyAssignor) Name() string { return AssignorCooperativeSticky }

// Protocol returns Cooperative.
func (CooperativeStickyAssignor) Protocol() RebalanceProtocol { return Cooperative }

// Assign implements Assignor.
func (CooperativeStickyAssignor) Assign(members []MemberSubscription, partitions map[string]int) (map[string][]TopicPartition, error) {
	assigned := stickyAssign(members, partitions, func(m MemberSubscription) ([]TopicPartition, int32) {
		return m.Owned, m.Generation
	})
	return withholdOwned(members, assigned), nil
}

// withholdOwned removes from each member's assignment the partitions that another
// member claims to own, whether or not that claim is still valid (the owner may have
// unsubscribed from the topic: it still holds the partition until it revokes it).
func withholdOwned(members []MemberSubscription, assigned map[string][]TopicPartition) map[string][]TopicPartition {
	claimants := make(map[TopicPartition][]string)
	for _, m := range members {
		for _, tp := range m.Owned {
			claimants[tp] = append(claimants[tp], m.MemberID)
		}
	}
	for id, tps := range assigned {
		assigned[id] = slices.DeleteFunc(tps, func(tp TopicPartition) bool {
			for _, owner := range claimants[tp] {
				if owner != id {
					return true
				}
			}
			return false
		})
	}
	return assigned
}

// stickyAssign computes a balanced assignment that keeps as many of the members'
// previous partitions as it can:
//
//  1. each member keeps its previous partitions that still exist and that it still
//     subscribes to (a partition claimed by two members goes to the claim of the
//     higher generation, then to the first member in order);
//  2. every other partition goes to the least loaded member subscribed to its topic,
//     partitions with the fewest candidates first;
//  3. while a member has at least two partitions more than another that could take
//     one of them, one moves (a partition it did not have before, if it has one).
//
// With identical subscriptions this moves exactly the partitions balance forces to
// move: the members that end up above the average are those that had the most.
func stickyAssign(members []MemberSubscription, partitions map[string]int, previous func(MemberSubscription) ([]TopicPartition, int32)) map[string][]TopicPartition {
	s := newStickyState(members, partitions)

	// 1. Previous partitions, by claim.
	type claim struct {
		member     int
		generation int32
	}
	claims := make(map[TopicPartition]claim)
	for i, m := range s.members {
		tps, generation := previous(m)
		for _, tp := range tps {
			if !s.exists(tp) || !s.subscribes(i, tp.Topic) {
				continue
			}
			s.previous[i][tp] = true
			if c, ok := claims[tp]; !ok || generation > c.generation {
				claims[tp] = claim{member: i, generation: generation}
			}
		}
	}
	for tp, c := range claims {
		s.give(tp, c.member)
	}

	// 2. Unassigned partitions, fewest candidates first.
	var unassigned []TopicPartition
	for _, topic := range slices.Sorted(maps.Keys(s.topicMembers)) {
		for p := range partitions[topic] {
			tp := TopicPartition{Topic: topic, Partition: int32(p)}
			if _, ok := claims[tp]; !ok {
				unassigned = append(unassigned, tp)
			}
		}
	}
	slices.SortStableFunc(unassigned, func(a, b TopicPartition) int {
		return cmp.Compare(len(s.topicMembers[a.Topic]), len(s.topicMembers[b.Topic]))
	})
	for _, tp := range unassigned {
		best := -1
		for _, i := range s.topicMembers[tp.Topic] {
			if best < 0 || len(s.assigned[i]) < len(s.assigned[best]) {
				best = i
			}
		}
		s.give(tp, best)
	}

	// 3. Balance.
	for s.moveOne() {
	}

	out := make(map[string][]TopicPartition, len(s.members))
	for i, m := range s.members {
		out[m.MemberID] = sortedTopicPartitions(s.assigned[i])
	}
	return out
}

// stickyState is the working state of stickyAssign; members are indexed in
// assignor order.
type stickyState struct {
	members      []MemberSubscription
	partitions   map[string]int
	topics       []map[string]bool // by member: the topics it subscribes to
	topicMembers map[string][]int  // by topic with partitions: its members, in order
	assigned     []map[TopicPartition]struct{}
	previous     []map[TopicPartition]bool
}

func newStickyState(members []MemberSubscription, partitions map[string]int) *stickyState {
	s := &stickyState{
		members:      slices.SortedFunc(slices.Values(members), compareMembers),
		partitions:   partitions,
		topicMembers: make(map[string][]int),
	}
	for i, m := range s.members {
		topics := make(map[string]bool)
		for _, t := range uniqueTopics(m.Topics) {
			topics[t] = true
			if partitions[t] > 0 {
				s.topicMembers[t] = append(s.topicMembers[t], i)
			}
		}
		s.topics = append(s.topics, topics)
		s.assigned = append(s.assigned, make(map[TopicPartition]struct{}))
		s.previous = append(s.previous, make(map[TopicPartition]bool))
	}
	return s
}

func (s *stickyState) exists(tp TopicPartition) bool {
	return tp.Partition >= 0 && int(tp.Partition) < s.partitions[tp.Topic]
}

func (s *stickyState) subscribes(member int, topic string) bool { return s.topics[member][topic] }

func (s *stickyState) give(tp TopicPartition, member int) { s.assigned[member][tp] = struct{}{} }

// moveOne moves one partition from a member to another with at least two fewer
// that can take it, preferring the most loaded source and the least loaded target,
// and reports whether it found one.
func (s *stickyState) moveOne() bool {
	byLoad := make([]int, len(s.members))
	for i := range byLoad {
		byLoad[i] = i
	}
	slices.SortStableFunc(byLoad, func(a, b int) int { return cmp.Compare(len(s.assigned[a]), len(s.assigned[b])) })
	for hi := len(byLoad) - 1; hi >= 0; hi-- {
		from := byLoad[hi]
		for _, to := range byLoad {
			if len(s.assigned[from])-len(s.assigned[to]) < 2 {
				break
			}
			if tp, ok := s.movable(from, to); ok {
				delete(s.assigned[from], tp)
				s.give(tp, to)
				return true
			}
		}
	}
	return false
}

// movable picks a partition of from that to could take: one from did not have
// before if possible, then the last in order (so that the result is deterministic).
func (s *stickyState) movable(from, to int) (TopicPartition, bool) {
	var best TopicPartition
	found, bestIsNew := false, false
	for tp := range s.assigned[from] {
		if !s.subscribes(to, tp.Topic) {
			continue
		}
		isNew := !s.previous[from][tp]
		if !found || (isNew && !bestIsNew) || (isNew == bestIsNew && compareTopicPartitions(tp, best) > 0) {
			best, found, bestIsNew = tp, true, isNew
		}
	}
	return best, found
}
