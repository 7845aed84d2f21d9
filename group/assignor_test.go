package group

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// member is shorthand for an assignor's view of a member.
func member(id string, topics []string, owned ...TopicPartition) MemberSubscription {
	return MemberSubscription{MemberID: id, Subscription: Subscription{Topics: topics, Owned: owned, Generation: 1}}
}

func parts(topicPartitions ...any) []TopicPartition {
	var out []TopicPartition
	for i := 0; i < len(topicPartitions); i += 2 {
		out = append(out, tp(topicPartitions[i].(string), int32(topicPartitions[i+1].(int))))
	}
	return out
}

// The examples of Kafka's RangeAssignor and RoundRobinAssignor documentation.
func TestRangeAndRoundRobinAsKafka(t *testing.T) {
	two := []string{"t0", "t1"}
	for _, tc := range []struct {
		name       string
		assignor   Assignor
		members    []MemberSubscription
		partitions map[string]int
		want       map[string][]TopicPartition
	}{
		{
			name:       "range: two topics of three partitions",
			assignor:   RangeAssignor{},
			members:    []MemberSubscription{member("C0", two), member("C1", two)},
			partitions: map[string]int{"t0": 3, "t1": 3},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t0", 1, "t1", 0, "t1", 1),
				"C1": parts("t0", 2, "t1", 2),
			},
		},
		{
			name:       "range: more members than partitions",
			assignor:   RangeAssignor{},
			members:    []MemberSubscription{member("C0", two), member("C1", two), member("C2", two)},
			partitions: map[string]int{"t0": 2, "t1": 1},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t1", 0),
				"C1": parts("t0", 1),
				"C2": {},
			},
		},
		{
			name:       "range: unknown topics and members order",
			assignor:   RangeAssignor{},
			members:    []MemberSubscription{member("b", []string{"t0", "gone"}), member("a", []string{"t0"})},
			partitions: map[string]int{"t0": 5},
			want: map[string][]TopicPartition{
				"a": parts("t0", 0, "t0", 1, "t0", 2),
				"b": parts("t0", 3, "t0", 4),
			},
		},
		{
			name:     "range: static members first, by instance id",
			assignor: RangeAssignor{},
			members: []MemberSubscription{
				member("a", []string{"t0"}),
				{MemberID: "z", InstanceID: "i2", Subscription: Subscription{Topics: []string{"t0"}}},
				{MemberID: "y", InstanceID: "i1", Subscription: Subscription{Topics: []string{"t0"}}},
			},
			partitions: map[string]int{"t0": 3},
			want: map[string][]TopicPartition{
				"y": parts("t0", 0),
				"z": parts("t0", 1),
				"a": parts("t0", 2),
			},
		},
		{
			name:       "roundrobin: two topics of three partitions",
			assignor:   RoundRobinAssignor{},
			members:    []MemberSubscription{member("C0", two), member("C1", two)},
			partitions: map[string]int{"t0": 3, "t1": 3},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t0", 2, "t1", 1),
				"C1": parts("t0", 1, "t1", 0, "t1", 2),
			},
		},
		{
			name:     "roundrobin: different subscriptions",
			assignor: RoundRobinAssignor{},
			members: []MemberSubscription{
				member("C0", []string{"t0"}),
				member("C1", []string{"t0", "t1"}),
				member("C2", []string{"t0", "t1", "t2"}),
			},
			partitions: map[string]int{"t0": 1, "t1": 2, "t2": 3},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0),
				"C1": parts("t1", 0),
				"C2": parts("t1", 1, "t2", 0, "t2", 1, "t2", 2),
			},
		},
		{
			name:       "sticky: fresh group is balanced",
			assignor:   StickyAssignor{},
			members:    []MemberSubscription{member("C0", two), member("C1", two), member("C2", two)},
			partitions: map[string]int{"t0": 4, "t1": 4},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t0", 3, "t1", 2),
				"C1": parts("t0", 1, "t1", 0, "t1", 3),
				"C2": parts("t0", 2, "t1", 1),
			},
		},
		{
			name:     "sticky: a new member takes partitions only from the busiest",
			assignor: StickyAssignor{},
			members: []MemberSubscription{
				member("C0", two, parts("t0", 0, "t0", 1, "t0", 2)...),
				member("C1", two, parts("t1", 0, "t1", 1, "t1", 2)...),
				member("C2", two),
			},
			partitions: map[string]int{"t0": 3, "t1": 3},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t0", 1),
				"C1": parts("t1", 0, "t1", 1),
				"C2": parts("t0", 2, "t1", 2),
			},
		},
		{
			name:     "sticky: a departed member's partitions are spread",
			assignor: StickyAssignor{},
			members: []MemberSubscription{
				member("C0", two, parts("t0", 0, "t1", 1)...),
				member("C2", two, parts("t0", 2, "t1", 0)...),
			},
			partitions: map[string]int{"t0": 3, "t1": 3},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t0", 1, "t1", 1),
				"C2": parts("t0", 2, "t1", 0, "t1", 2),
			},
		},
		{
			name:     "cooperative-sticky: a partition moving is withheld until its owner revokes it",
			assignor: CooperativeStickyAssignor{},
			members: []MemberSubscription{
				member("C0", []string{"t0"}, parts("t0", 0, "t0", 1, "t0", 2, "t0", 3)...),
				member("C1", []string{"t0"}),
			},
			partitions: map[string]int{"t0": 4},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t0", 1), // revokes 2 and 3, rejoins
				"C1": {},                      // gets 2 and 3 in the next rebalance
			},
		},
		{
			name:     "cooperative-sticky: the second rebalance after the revocation",
			assignor: CooperativeStickyAssignor{},
			members: []MemberSubscription{
				member("C0", []string{"t0"}, parts("t0", 0, "t0", 1)...),
				member("C1", []string{"t0"}),
			},
			partitions: map[string]int{"t0": 4},
			want: map[string][]TopicPartition{
				"C0": parts("t0", 0, "t0", 1),
				"C1": parts("t0", 2, "t0", 3),
			},
		},
		{
			name:     "cooperative-sticky: an unsubscribed owner keeps blocking its partitions",
			assignor: CooperativeStickyAssignor{},
			members: []MemberSubscription{
				member("C0", []string{"t1"}, parts("t0", 0, "t0", 1)...),
				member("C1", []string{"t0", "t1"}),
			},
			partitions: map[string]int{"t0": 2, "t1": 2},
			want: map[string][]TopicPartition{
				"C0": parts("t1", 0, "t1", 1), // revokes t0-0 and t0-1, rejoins
				"C1": {},                      // gets them in the next rebalance
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.assignor.Assign(tc.members, tc.partitions)
			require.NoError(t, err)
			for id := range got {
				if len(got[id]) == 0 {
					got[id] = []TopicPartition{}
				}
			}
			require.Equal(t, tc.want, got)
			require.NoError(t, checkAssignment(tc.assignor.Name(), tc.members, tc.partitions, got))
		})
	}
}

// The sticky assignor's claims: a partition claimed by two members goes to the
// higher generation; an eager member's previous assignment comes from its user
// data.
func TestStickyClaimsAndUserData(t *testing.T) {
	topics := []string{"t0"}
	old := member("A", topics, parts("t0", 0, "t0", 1)...)
	old.Generation = 3
	newer := member("B", topics, parts("t0", 1)...)
	newer.Generation = 4
	got, err := StickyAssignor{}.Assign([]MemberSubscription{old, newer}, map[string]int{"t0": 2})
	require.NoError(t, err)
	require.Equal(t, map[string][]TopicPartition{"A": parts("t0", 0), "B": parts("t0", 1)}, got)

	eager := func(id string, previous []TopicPartition) MemberSubscription {
		return MemberSubscription{MemberID: id, Subscription: Subscription{
			Topics: topics, Generation: -1, UserData: StickyAssignor{}.UserData(previous, 7),
		}}
	}
	got, err = StickyAssignor{}.Assign([]MemberSubscription{eager("A", parts("t0", 2, "t0", 3)), eager("B", parts("t0", 0, "t0", 1))}, map[string]int{"t0": 4})
	require.NoError(t, err)
	require.Equal(t, map[string][]TopicPartition{"A": parts("t0", 2, "t0", 3), "B": parts("t0", 0, "t0", 1)}, got)
}

// randomPrevious deals a random subset of the partitions to random members, each
// partition to at most one member subscribed to its topic.
func randomPrevious(rng *rand.Rand, members []MemberSubscription, partitions map[string]int) {
	for _, topic := range slices.Sorted(maps.Keys(partitions)) {
		for p := range partitions[topic] {
			i := rng.IntN(len(members) + 1)
			if i == len(members) || !slices.Contains(members[i].Topics, topic) {
				continue
			}
			members[i].Owned = append(members[i].Owned, tp(topic, int32(p)))
		}
	}
}

// The sticky assignor, on random groups: every assignment is valid and complete;
// with identical subscriptions it is balanced and moves exactly as many previously
// owned partitions as balance forces; with different ones no single move would
// improve the balance. The cooperative variant never hands out a partition another
// member owns.
func TestStickyProperties(t *testing.T) {
	seeds := 500
	if longRun() {
		seeds = 20000
	}
	allTopics := []string{"a", "b", "c", "d"}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 0))
		partitions := map[string]int{}
		for _, topic := range allTopics {
			partitions[topic] = rng.IntN(7)
		}
		identical := seed%2 == 0
		var members []MemberSubscription
		for i := range 1 + rng.IntN(6) {
			topics := allTopics[:2]
			if !identical {
				topics = nil
				for _, topic := range allTopics {
					if rng.IntN(2) == 0 {
						topics = append(topics, topic)
					}
				}
			}
			members = append(members, member(fmt.Sprintf("m%d", i), topics))
		}
		randomPrevious(rng, members, partitions)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			got, err := StickyAssignor{}.Assign(members, partitions)
			require.NoError(t, err)
			require.NoError(t, checkAssignment(AssignorSticky, members, partitions, got))
			assertComplete(t, members, partitions, got)
			assertLocallyBalanced(t, members, got)
			if identical {
				assertMinimalMoves(t, members, got)
			}
			coop, err := CooperativeStickyAssignor{}.Assign(members, partitions)
			require.NoError(t, err)
			require.NoError(t, checkAssignment(AssignorCooperativeSticky, members, partitions, coop))
			for _, m := range members {
				for _, other := range members {
					if other.MemberID != m.MemberID {
						for _, tp := range coop[m.MemberID] {
							require.NotContains(t, other.Owned, tp, "%v given to %s while %s owns it", tp, m.MemberID, other.MemberID)
						}
					}
				}
			}
		})
	}
}

// assertComplete checks that every partition of a topic someone subscribes to is
// assigned.
func assertComplete(t *testing.T, members []MemberSubscription, partitions map[string]int, got map[string][]TopicPartition) {
	t.Helper()
	assigned := 0
	for _, tps := range got {
		assigned += len(tps)
	}
	want := 0
	for topic, n := range partitions {
		for _, m := range members {
			if slices.Contains(m.Topics, topic) {
				want += n
				break
			}
		}
	}
	require.Equal(t, want, assigned, "every subscribed partition is assigned")
}

// assertLocallyBalanced checks that no partition could move to a member with two
// fewer that subscribes to its topic.
func assertLocallyBalanced(t *testing.T, members []MemberSubscription, got map[string][]TopicPartition) {
	t.Helper()
	for _, from := range members {
		for _, to := range members {
			if len(got[from.MemberID])-len(got[to.MemberID]) < 2 {
				continue
			}
			for _, tp := range got[from.MemberID] {
				require.NotContains(t, to.Topics, tp.Topic, "%v could move from %s (%d) to %s (%d)",
					tp, from.MemberID, len(got[from.MemberID]), to.MemberID, len(got[to.MemberID]))
			}
		}
	}
}

// assertMinimalMoves checks, for identical subscriptions, that the counts differ by
// at most one and that exactly the previously owned partitions balance forces off
// their owners moved: the members that had the most keep the larger share.
func assertMinimalMoves(t *testing.T, members []MemberSubscription, got map[string][]TopicPartition) {
	t.Helper()
	total, lo, hi := 0, 1<<30, 0
	for _, m := range members {
		n := len(got[m.MemberID])
		total += n
		lo, hi = min(lo, n), max(hi, n)
	}
	require.LessOrEqual(t, hi-lo, 1, "balanced")
	quota, extra := total/len(members), total%len(members)
	had := make([]int, len(members))
	for i, m := range members {
		had[i] = len(m.Owned)
	}
	slices.SortFunc(had, func(a, b int) int { return b - a })
	minimum := 0
	for i, n := range had {
		target := quota
		if i < extra {
			target++
		}
		minimum += max(0, n-target)
	}
	moved := 0
	for _, m := range members {
		moved += len(minus(m.Owned, got[m.MemberID]))
	}
	require.Equal(t, minimum, moved, "previously owned partitions moved")
}
