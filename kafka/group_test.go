package kafka

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupJoinSyncHeartbeatRebalance drives the classic group protocol with raw
// requests, as a Kafka consumer sends them: two members join with the member-ID
// handshake, the leader gets the member list and hands out the assignments in
// its SyncGroup, the other learns of the rebalance from its heartbeat, and when
// a member leaves the group rebalances again. Along the way it checks the
// errors a fenced member gets.
func TestGroupJoinSyncHeartbeatRebalance(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 4)
	a, b := ts.dial(t), ts.dial(t)
	const g = "billing"

	// A joins alone: the leader of generation 1, with itself as the member list.
	idA := joinHandshake(t, a, g, "orders")
	joined := a.roundTrip(joinGroupRequest(9, g, idA, "orders")).(*kmsg.JoinGroupResponse)
	if joined.ErrorCode != 0 || joined.MemberID != idA || joined.LeaderID != idA || len(joined.Members) != 1 {
		t.Fatalf("A's JoinGroup: %+v", joined)
	}
	if joined.ProtocolType == nil || *joined.ProtocolType != "consumer" || joined.Protocol == nil || *joined.Protocol != "range" {
		t.Fatalf("A's JoinGroup: protocol %v/%v, want consumer/range", joined.ProtocolType, joined.Protocol)
	}
	gen1 := joined.Generation
	synced := a.roundTrip(syncGroupRequest(g, idA, gen1, "orders", map[string][]int32{idA: {0, 1, 2, 3}})).(*kmsg.SyncGroupResponse)
	if got := assignedPartitions(t, synced, "orders"); !slices.Equal(got, []int32{0, 1, 2, 3}) {
		t.Fatalf("A's assignment %v, want all four partitions", got)
	}
	if code := heartbeat(a, g, idA, gen1); code != 0 {
		t.Fatalf("A's heartbeat in a stable group: %s", kerr.ErrorForCode(code))
	}

	// B joins: its JoinGroup waits until A has rejoined, which A does when its
	// heartbeat says the group rebalances.
	idB := joinHandshake(t, b, g, "orders")
	joinB := b.start(joinGroupRequest(9, g, idB, "orders"))
	heartbeatUntilRebalance(t, a, g, idA, gen1)
	joined = a.roundTrip(joinGroupRequest(9, g, idA, "orders")).(*kmsg.JoinGroupResponse)
	followed := joinB().(*kmsg.JoinGroupResponse)
	if joined.ErrorCode != 0 || joined.LeaderID != idA || len(joined.Members) != 2 {
		t.Fatalf("A's JoinGroup in generation 2: %+v", joined)
	}
	if followed.ErrorCode != 0 || followed.LeaderID != idA || len(followed.Members) != 0 || followed.Generation != joined.Generation {
		t.Fatalf("B's JoinGroup: %+v (the leader's generation %d)", followed, joined.Generation)
	}
	gen2 := joined.Generation
	for _, m := range joined.Members {
		meta := kmsg.NewConsumerMemberMetadata()
		if err := meta.ReadFrom(m.ProtocolMetadata); err != nil || !slices.Equal(meta.Topics, []string{"orders"}) {
			t.Fatalf("member %s's metadata: %v, %v", m.MemberID, meta.Topics, err)
		}
	}
	if code := heartbeat(a, g, idA, gen1); code != kerr.IllegalGeneration.Code {
		t.Errorf("a heartbeat of generation 1 in generation 2: %s, want ILLEGAL_GENERATION", kerr.ErrorForCode(code))
	}

	// B's SyncGroup waits for the leader's.
	syncB := b.start(syncGroupRequest(g, idB, gen2, "orders", nil))
	synced = a.roundTrip(syncGroupRequest(g, idA, gen2, "orders", map[string][]int32{idA: {0, 1}, idB: {2, 3}})).(*kmsg.SyncGroupResponse)
	if got := assignedPartitions(t, synced, "orders"); !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("A's assignment %v, want [0 1]", got)
	}
	if got := assignedPartitions(t, syncB().(*kmsg.SyncGroupResponse), "orders"); !slices.Equal(got, []int32{2, 3}) {
		t.Errorf("B's assignment %v, want [2 3]", got)
	}
	for _, m := range []struct {
		c  *rawConn
		id string
	}{{a, idA}, {b, idB}} {
		if code := heartbeat(m.c, g, m.id, gen2); code != 0 {
			t.Errorf("%s's heartbeat: %s", m.id, kerr.ErrorForCode(code))
		}
	}

	// B leaves (v5, batched): A's heartbeat says to rejoin, and A forms
	// generation 3 alone. B is unknown from then on.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version = 5
	leave.Group = g
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: idB}}
	left := b.roundTrip(leave).(*kmsg.LeaveGroupResponse)
	if left.ErrorCode != 0 || len(left.Members) != 1 || left.Members[0].ErrorCode != 0 || left.Members[0].MemberID != idB {
		t.Fatalf("LeaveGroup: %+v", left)
	}
	if code := heartbeat(a, g, idA, gen2); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("A's heartbeat after B left: %s, want REBALANCE_IN_PROGRESS", kerr.ErrorForCode(code))
	}
	if code := heartbeat(b, g, idB, gen2); code != kerr.UnknownMemberID.Code {
		t.Errorf("B's heartbeat after it left: %s, want UNKNOWN_MEMBER_ID", kerr.ErrorForCode(code))
	}
	joined = a.roundTrip(joinGroupRequest(9, g, idA, "orders")).(*kmsg.JoinGroupResponse)
	if joined.ErrorCode != 0 || joined.LeaderID != idA || len(joined.Members) != 1 || joined.Generation <= gen2 {
		t.Fatalf("A's JoinGroup after B left: %+v", joined)
	}
	gen3 := joined.Generation

	// Before the leader's SyncGroup the group completes its rebalance: a
	// commit is refused with REBALANCE_IN_PROGRESS; one of an older generation
	// with ILLEGAL_GENERATION, one of a member that left with UNKNOWN_MEMBER_ID.
	for _, tc := range []struct {
		name       string
		member     string
		generation int32
		want       *kerr.Error
	}{
		{"completing rebalance", idA, gen3, kerr.RebalanceInProgress},
		{"older generation", idA, gen2, kerr.IllegalGeneration},
		{"member that left", idB, gen3, kerr.UnknownMemberID},
	} {
		if code := commitOne(a, g, tc.member, tc.generation, "orders", 0, 5); code != tc.want.Code {
			t.Errorf("commit of a %s: %s, want %s", tc.name, kerr.ErrorForCode(code), tc.want.Message)
		}
	}
	describe := kmsg.NewPtrDescribeGroupsRequest()
	describe.Version = 5
	describe.Groups = []string{g}
	d := a.roundTrip(describe).(*kmsg.DescribeGroupsResponse).Groups[0]
	if d.State != "CompletingRebalance" || d.Protocol != "" || len(d.Members) != 1 || len(d.Members[0].ProtocolMetadata) != 0 {
		t.Errorf("described while completing a rebalance: %+v; want no protocol nor metadata, as Kafka", d)
	}
	synced = a.roundTrip(syncGroupRequest(g, idA, gen3, "orders", map[string][]int32{idA: {0, 1, 2, 3}})).(*kmsg.SyncGroupResponse)
	if got := assignedPartitions(t, synced, "orders"); !slices.Equal(got, []int32{0, 1, 2, 3}) {
		t.Errorf("A's assignment in generation 3: %v", got)
	}
	if code := commitOne(a, g, idA, gen3, "orders", 0, 5); code != 0 {
		t.Errorf("commit of the stable group's member: %s", kerr.ErrorForCode(code))
	}
	stale := syncGroupRequest(g, idA, gen2, "orders", nil)
	if code := a.roundTrip(stale).(*kmsg.SyncGroupResponse).ErrorCode; code != kerr.IllegalGeneration.Code {
		t.Errorf("SyncGroup of an older generation: %s, want ILLEGAL_GENERATION", kerr.ErrorForCode(code))
	}
}

// commitOne commits offset for one partition with OffsetCommit v9 and returns
// the partition's error code.
func commitOne(c *rawConn, groupName, memberID string, generation int32, topic string, partition int32, offset int64) int16 {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 9
	req.Group, req.MemberID, req.Generation = groupName, memberID, generation
	req.Topics = []kmsg.OffsetCommitRequestTopic{{
		Topic:      topic,
		Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: partition, Offset: offset, LeaderEpoch: -1}},
	}}
	resp := c.roundTrip(req).(*kmsg.OffsetCommitResponse)
	return resp.Topics[0].Partitions[0].ErrorCode
}
