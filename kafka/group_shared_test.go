package kafka

import (
	"context"
	"slices"
	"testing"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupKafkaMemberAndGroupConsumerShareGroup puts a member speaking Kafka's
// protocol and an in-process log.GroupConsumer in one group: they see each
// other (DescribeGroups lists both), the rebalance the Kafka member's join
// starts splits the partitions between them, and when the in-process consumer
// closes the Kafka member gets them all.
func TestGroupKafkaMemberAndGroupConsumerShareGroup(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 4)
	const g = "shared"
	assigned := make(chan []log.TopicPartition, 16)
	consumer, err := ts.store.NewGroupConsumer(log.GroupConsumerOptions{
		Group:          g,
		Topics:         []string{"orders"},
		ClientID:       "in-process",
		Assignors:      []log.Assignor{group.RangeAssignor{}},
		SessionTimeout: groupTestSession,
		OnAssigned:     func(tps []log.TopicPartition) { assigned <- tps },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	if got := <-assigned; len(got) != 4 {
		t.Fatalf("the in-process consumer alone got %v, want the four partitions", got)
	}

	// The Kafka member joins: the in-process member, told of the rebalance at
	// once, rejoins, leads the new generation and computes the assignment for
	// both from the Kafka member's subscription.
	c := ts.dial(t)
	id := joinHandshake(t, c, g, "orders")
	joined := c.roundTrip(joinGroupRequest(9, g, id, "orders")).(*kmsg.JoinGroupResponse)
	if joined.ErrorCode != 0 || joined.LeaderID == id || joined.LeaderID != consumer.MemberID() {
		t.Fatalf("JoinGroup: error %d leader %q; want the in-process member %q to lead", joined.ErrorCode, joined.LeaderID, consumer.MemberID())
	}
	synced := c.roundTrip(syncGroupRequest(g, id, joined.Generation, "orders", nil)).(*kmsg.SyncGroupResponse)
	remote := assignedPartitions(t, synced, "orders")
	if len(remote) != 2 {
		t.Fatalf("the Kafka member got %v, want two partitions", remote)
	}
	local := <-assigned
	for len(local) != 2 { // an eager member revokes all, then gets its share
		local = <-assigned
	}
	all := append(slices.Clone(remote), local[0].Partition, local[1].Partition)
	slices.Sort(all)
	if !slices.Equal(all, []int32{0, 1, 2, 3}) {
		t.Errorf("partitions: the Kafka member %v, the in-process one %v: want each of the four once", remote, local)
	}

	adm := kadm.NewClient(ts.client(t))
	described, err := adm.DescribeGroups(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	d := described[g]
	if d.Err != nil || d.State != "Stable" || len(d.Members) != 2 {
		t.Fatalf("described %+v, want Stable with two members", d)
	}
	clients := map[string]string{}
	for _, m := range d.Members {
		clients[m.MemberID] = m.ClientID
		if a, ok := m.Assigned.AsConsumer(); !ok || len(a.Topics) != 1 || len(a.Topics[0].Partitions) != 2 {
			t.Errorf("member %s's assignment: %+v", m.MemberID, m.Assigned)
		}
	}
	if clients[id] != "raw-test" || clients[consumer.MemberID()] != "in-process" {
		t.Errorf("members %v, want %s (raw-test) and %s (in-process)", clients, id, consumer.MemberID())
	}

	// The in-process consumer leaves; the Kafka member learns of it from its
	// heartbeat, rejoins as the leader and assigns itself everything.
	if err := consumer.Close(); err != nil {
		t.Fatal(err)
	}
	if code := heartbeat(c, g, id, joined.Generation); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat after the in-process member left: %s, want REBALANCE_IN_PROGRESS", kerr.ErrorForCode(code))
	}
	joined = c.roundTrip(joinGroupRequest(9, g, id, "orders")).(*kmsg.JoinGroupResponse)
	if joined.ErrorCode != 0 || joined.LeaderID != id || len(joined.Members) != 1 {
		t.Fatalf("JoinGroup alone: %+v", joined)
	}
}
