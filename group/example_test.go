package group_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalog/strata/group"
)

// topics is a Metadata for the examples: partition counts, and every partition
// ending at offset 100.
type topics map[string]int

func (t topics) Partitions(topic string) (int, bool)          { n, ok := t[topic]; return n, ok }
func (t topics) EndOffset(group.TopicPartition) (int64, bool) { return 100, true }

// An in-process consumer joins a group, commits, and the group's lag is described.
func Example() {
	ctx := context.Background()
	coord, err := group.NewCoordinator(&group.Options{Metadata: topics{"orders": 3}})
	if err != nil {
		panic(err)
	}
	defer coord.Close()

	m, err := coord.NewMember(group.MemberConfig{
		Group:      "billing",
		Topics:     []string{"orders"},
		OnAssigned: func(tps []group.TopicPartition) { fmt.Println("assigned", tps) },
	})
	if err != nil {
		panic(err)
	}
	a, err := m.Join(ctx) // alone in the group: returns at once
	if err != nil {
		panic(err)
	}
	fmt.Println("generation", a.Generation, "by", a.Protocol)

	err = m.Commit(ctx, map[group.TopicPartition]group.OffsetAndMetadata{
		{Topic: "orders", Partition: 0}: {Offset: 60},
		{Topic: "orders", Partition: 1}: {Offset: 100},
	})
	if err != nil {
		panic(err)
	}
	d, err := coord.Describe("billing")
	if err != nil {
		panic(err)
	}
	fmt.Println(d.State, "members:", len(d.Members))
	for _, p := range d.Partitions {
		fmt.Printf("%v committed %d end %d lag %d\n", p.TopicPartition, p.Committed, p.EndOffset, p.Lag)
	}
	// Output:
	// assigned [orders-0 orders-1 orders-2]
	// generation 1 by cooperative-sticky
	// Stable members: 1
	// orders-0 committed 60 end 100 lag 40
	// orders-1 committed 100 end 100 lag 0
	// orders-2 committed -1 end 100 lag -1
}

// The classic protocol step by step, as a Kafka-protocol listener drives it: a
// JoinGroup answered through its callback, the leader's SyncGroup with the
// assignment, heartbeats, and a commit from a stale generation refused.
func ExampleCoordinator_JoinGroup() {
	coord, err := group.NewCoordinator(nil)
	if err != nil {
		panic(err)
	}
	defer coord.Close()
	subscription := group.EncodeSubscription(group.Subscription{Topics: []string{"orders"}, Generation: -1})
	join := group.JoinRequest{
		Group:        "g",
		ProtocolType: group.ProtocolTypeConsumer,
		Protocols:    []group.Protocol{{Name: "range", Metadata: subscription}},
	}

	var joined group.JoinResponse
	coord.JoinGroup(join, func(resp group.JoinResponse, err error) { joined = resp })
	fmt.Println("generation", joined.Generation, "leader:", joined.LeaderID == joined.MemberID, "members:", len(joined.Members))

	assignment := group.EncodeAssignment(group.MemberAssignment{Partitions: []group.TopicPartition{{Topic: "orders", Partition: 0}}})
	coord.SyncGroup(group.SyncRequest{
		Group: "g", MemberID: joined.MemberID, Generation: joined.Generation,
		Assignments: map[string][]byte{joined.MemberID: assignment},
	}, func(resp group.SyncResponse, err error) {
		a, _ := group.DecodeAssignment(resp.Assignment)
		fmt.Println("assigned", a.Partitions)
	})
	fmt.Println("heartbeat:", coord.Heartbeat(group.HeartbeatRequest{Group: "g", MemberID: joined.MemberID, Generation: 1}))

	// A second member joins: the first hears of the rebalance, rejoins, and the
	// generation it had is fenced from then on.
	coord.JoinGroup(join, func(group.JoinResponse, error) {})
	fmt.Println("heartbeat:", coord.Heartbeat(group.HeartbeatRequest{Group: "g", MemberID: joined.MemberID, Generation: 1}))
	rejoin := join
	rejoin.MemberID = joined.MemberID
	coord.JoinGroup(rejoin, func(resp group.JoinResponse, err error) { joined = resp })
	fmt.Println("generation", joined.Generation, "members:", len(joined.Members))
	err = coord.CommitOffsets(context.Background(), group.CommitRequest{
		Group: "g", MemberID: joined.MemberID, Generation: 1,
		Offsets: map[group.TopicPartition]group.OffsetAndMetadata{{Topic: "orders", Partition: 0}: {Offset: 5}},
	})
	fmt.Println(errors.Is(err, group.ErrIllegalGeneration))
	// Output:
	// generation 1 leader: true members: 1
	// assigned [orders-0]
	// heartbeat: <nil>
	// heartbeat: strata/group: rebalance in progress
	// generation 2 members: 2
	// true
}

// The cooperative-sticky assignor moves partitions in two steps: a partition that
// must move is first withheld (its owner revokes it), then assigned.
func ExampleCooperativeStickyAssignor() {
	orders := []string{"orders"}
	owned := func(ps ...int32) []group.TopicPartition {
		var out []group.TopicPartition
		for _, p := range ps {
			out = append(out, group.TopicPartition{Topic: "orders", Partition: p})
		}
		return out
	}
	assign := func(a, b []group.TopicPartition) {
		members := []group.MemberSubscription{
			{MemberID: "a", Subscription: group.Subscription{Topics: orders, Owned: a}},
			{MemberID: "b", Subscription: group.Subscription{Topics: orders, Owned: b}},
		}
		out, _ := group.CooperativeStickyAssignor{}.Assign(members, map[string]int{"orders": 4})
		fmt.Println("a:", out["a"], "b:", out["b"])
	}
	assign(owned(0, 1, 2, 3), nil) // b joins: a keeps 0 and 1, revokes 2 and 3
	assign(owned(0, 1), nil)       // the next rebalance: b gets 2 and 3
	// Output:
	// a: [orders-0 orders-1] b: []
	// a: [orders-0 orders-1] b: [orders-2 orders-3]
}

// The range assignor, as in Kafka's documentation.
func ExampleRangeAssignor() {
	both := []string{"t0", "t1"}
	out, _ := group.RangeAssignor{}.Assign([]group.MemberSubscription{
		{MemberID: "C0", Subscription: group.Subscription{Topics: both}},
		{MemberID: "C1", Subscription: group.Subscription{Topics: both}},
	}, map[string]int{"t0": 3, "t1": 3})
	fmt.Println("C0:", out["C0"])
	fmt.Println("C1:", out["C1"])
	// Output:
	// C0: [t0-0 t0-1 t1-0 t1-1]
	// C1: [t0-2 t1-2]
}
