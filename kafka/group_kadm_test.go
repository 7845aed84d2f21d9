package kafka

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupOffsetsAndGroupsThroughKadm drives the group admin APIs through
// franz-go's admin client, as kafka-consumer-groups and GUI tools do: commit
// offsets from outside a group (a reset) and fetch them back, list, describe
// and delete groups, one of them with a member joined with raw requests.
func TestGroupOffsetsAndGroupsThroughKadm(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 3)
	adm := kadm.NewClient(ts.client(t))
	ctx := context.Background()

	var offsets kadm.Offsets
	offsets.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 10, LeaderEpoch: -1, Metadata: "first"})
	offsets.Add(kadm.Offset{Topic: "orders", Partition: 1, At: 20, LeaderEpoch: -1})
	offsets.Add(kadm.Offset{Topic: "orders", Partition: 7, At: 1, LeaderEpoch: -1})
	committed, err := adm.CommitOffsets(ctx, "reset", offsets)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]error{0: nil, 1: nil, 7: kerr.UnknownTopicOrPartition} {
		if got, ok := committed.Lookup("orders", p); !ok || !errors.Is(got.Err, want) && got.Err != want {
			t.Errorf("commit of orders-%d: %v (%v), want %v", p, got.Err, ok, want)
		}
	}
	fetched, err := adm.FetchOffsets(ctx, "reset")
	if err != nil || fetched.Error() != nil {
		t.Fatalf("FetchOffsets: %v %v", err, fetched.Error())
	}
	if o, _ := fetched.Lookup("orders", 0); o.At != 10 || o.Metadata != "first" {
		t.Errorf("orders-0: %+v, want 10 \"first\"", o.Offset)
	}
	if o, _ := fetched.Lookup("orders", 1); o.At != 20 {
		t.Errorf("orders-1: %+v, want 20", o.Offset)
	}
	if _, ok := fetched.Lookup("orders", 2); ok {
		t.Error("orders-2 was never committed but is fetched")
	}
	forTopics, err := adm.FetchOffsetsForTopics(ctx, "reset", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := forTopics.Lookup("orders", 2); !ok || o.At != -1 || o.Err != nil {
		t.Errorf("orders-2 asked for by topic: %+v %v, want -1 without error", o, ok)
	}

	// A member joined with raw requests makes "live" a stable group.
	c := ts.dial(t)
	id := joinHandshake(t, c, "live", "orders")
	joined := c.roundTrip(joinGroupRequest(9, "live", id, "orders")).(*kmsg.JoinGroupResponse)
	synced := c.roundTrip(syncGroupRequest("live", id, joined.Generation, "orders", map[string][]int32{id: {0, 1, 2}})).(*kmsg.SyncGroupResponse)
	assignedPartitions(t, synced, "orders")

	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := listed["reset"]; g.State != "Empty" || g.ProtocolType != "" || g.GroupType != "classic" {
		t.Errorf("listed reset: %+v", g)
	}
	if g := listed["live"]; g.State != "Stable" || g.ProtocolType != "consumer" {
		t.Errorf("listed live: %+v", g)
	}
	stable, err := adm.ListGroups(ctx, "Stable")
	if err != nil || len(stable) != 1 || stable["live"].Group != "live" {
		t.Errorf("groups listed Stable: %v %v, want live only", stable.Groups(), err)
	}

	described, err := adm.DescribeGroups(ctx, "live", "reset", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	live := described["live"]
	if live.Err != nil || live.State != "Stable" || live.Protocol != "range" || len(live.Members) != 1 {
		t.Fatalf("described live: %+v", live)
	}
	m := live.Members[0]
	if m.MemberID != id || m.ClientID != "raw-test" {
		t.Errorf("member %q client %q, want %q and raw-test", m.MemberID, m.ClientID, id)
	}
	if assigned, ok := m.Assigned.AsConsumer(); !ok || len(assigned.Topics) != 1 || len(assigned.Topics[0].Partitions) != 3 {
		t.Errorf("member's assignment: %+v", m.Assigned)
	}
	if joinMeta, ok := m.Join.AsConsumer(); !ok || len(joinMeta.Topics) != 1 || joinMeta.Topics[0] != "orders" {
		t.Errorf("member's subscription: %+v", m.Join)
	}
	if g := described["reset"]; g.Err != nil || g.State != "Empty" || len(g.Members) != 0 {
		t.Errorf("described reset: %+v", g)
	}
	if g := described["nobody"]; !errors.Is(g.Err, kerr.GroupIDNotFound) {
		t.Errorf("described an unknown group: %v, want GROUP_ID_NOT_FOUND", g.Err)
	}

	// A commit from outside a group with a member is refused; so is deleting it.
	outside, err := adm.CommitOffsets(ctx, "live", offsets)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := outside.Lookup("orders", 0); !errors.Is(o.Err, kerr.UnknownMemberID) {
		t.Errorf("a commit from outside a group with members: %v, want UNKNOWN_MEMBER_ID", o.Err)
	}
	deleted, err := adm.DeleteGroups(ctx, "live", "reset", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]error{"live": kerr.NonEmptyGroup, "reset": nil, "nobody": kerr.GroupIDNotFound} {
		if got := deleted[name].Err; !errors.Is(got, want) && got != want {
			t.Errorf("DeleteGroups %s: %v, want %v", name, got, want)
		}
	}
	fetched, err = adm.FetchOffsets(ctx, "reset")
	if err != nil || len(fetched) != 0 {
		t.Errorf("offsets of the deleted group: %v %v", fetched, err)
	}
	if listed, _ := adm.ListGroups(ctx); len(listed) != 1 {
		t.Errorf("groups after deleting reset: %v, want live only", listed.Groups())
	}
}

// TestGroupOffsetDeleteThroughKadm deletes a group's offsets through kadm
// (kafka-consumer-groups --delete-offsets): those of a topic the group's member
// subscribes to stay (GROUP_SUBSCRIBED_TO_TOPIC), the others go; an unknown
// group is GROUP_ID_NOT_FOUND.
func TestGroupOffsetDeleteThroughKadm(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 1)
	createTestTopic(t, ts.store, "payments", 1)
	c := ts.dial(t)
	id := joinHandshake(t, c, "g", "orders")
	joined := c.roundTrip(joinGroupRequest(9, "g", id, "orders")).(*kmsg.JoinGroupResponse)
	c.roundTrip(syncGroupRequest("g", id, joined.Generation, "orders", map[string][]int32{id: {0}}))
	for _, topic := range []string{"orders", "payments"} {
		if code := commitOne(c, "g", id, joined.Generation, topic, 0, 9); code != 0 {
			t.Fatalf("commit of %s: %s", topic, kerr.ErrorForCode(code))
		}
	}
	adm := kadm.NewClient(ts.client(t))
	ctx := context.Background()
	deleted, err := adm.DeleteOffsets(ctx, "g", kadm.TopicsSet{"orders": {0: {}}, "payments": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := deleted["orders"][0]; !errors.Is(err, kerr.GroupSubscribedToTopic) {
		t.Errorf("orders-0: %v, want GROUP_SUBSCRIBED_TO_TOPIC", err)
	}
	if err := deleted["payments"][0]; err != nil {
		t.Errorf("payments-0: %v", err)
	}
	fetched, err := adm.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fetched.Lookup("payments", 0); ok {
		t.Error("payments-0's offset was deleted but is fetched")
	}
	if o, ok := fetched.Lookup("orders", 0); !ok || o.At != 9 {
		t.Errorf("orders-0: %+v, want 9", o)
	}
	if _, err := adm.DeleteOffsets(ctx, "nobody", kadm.TopicsSet{"orders": {0: {}}}); !errors.Is(err, kerr.GroupIDNotFound) {
		t.Errorf("an unknown group: %v, want GROUP_ID_NOT_FOUND", err)
	}
}
