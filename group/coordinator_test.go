package group

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stableGroup makes a group of n members, all subscribed to "orders", and returns
// their member ids (the leader first, then in the order they joined) and the
// generation.
func stableGroup(t *testing.T, c *testCoordinator, group string, n int) ([]string, int32) {
	t.Helper()
	var ids []string
	var generation int32
	for i := range n {
		// The new member joins, then every current member rejoins.
		joins := []*pending[JoinResponse]{c.join(consumerJoin(group, "", []string{"orders"}))}
		for _, id := range ids {
			joins = append(joins, c.join(consumerJoin(group, id, []string{"orders"})))
		}
		ids = ids[:0]
		var leader JoinResponse
		for _, p := range joins {
			resp, err := p.result(t)
			require.NoError(t, err)
			ids = append(ids, resp.MemberID)
			if resp.LeaderID == resp.MemberID {
				leader = resp
			}
			generation = resp.Generation
		}
		require.Len(t, leader.Members, i+1)
		assignments := map[string][]byte{}
		for _, m := range leader.Members {
			assignments[m.MemberID] = EncodeAssignment(MemberAssignment{})
		}
		for _, id := range ids {
			req := SyncRequest{Group: group, MemberID: id, Generation: generation}
			if id == leader.MemberID {
				req.Assignments = assignments
			}
			c.sync(req)
		}
	}
	d, err := c.Describe(group)
	require.NoError(t, err)
	require.Equal(t, Stable, d.State)
	slices.SortFunc(ids, func(a, b string) int {
		if a == d.Leader {
			return -1
		}
		if b == d.Leader {
			return 1
		}
		return strings.Compare(a, b)
	})
	return ids, generation
}

// A first member joins, is answered at once as the leader of generation 1, sends
// the assignment, and the group is stable.
func TestJoinSyncStable(t *testing.T) {
	c := newTestCoordinator(t, nil)
	p := c.join(consumerJoin("g", "", []string{"orders"}))
	resp, err := p.result(t)
	require.NoError(t, err)
	require.Equal(t, int32(1), resp.Generation)
	require.Equal(t, resp.MemberID, resp.LeaderID)
	require.Equal(t, AssignorRange, resp.Protocol)
	require.Equal(t, ProtocolTypeConsumer, resp.ProtocolType)
	require.Len(t, resp.Members, 1)
	sub, err := DecodeSubscription(resp.Members[0].Metadata)
	require.NoError(t, err)
	require.Equal(t, []string{"orders"}, sub.Topics)

	d, err := c.Describe("g")
	require.NoError(t, err)
	require.Equal(t, CompletingRebalance, d.State)

	assignment := EncodeAssignment(MemberAssignment{Partitions: tps("orders", 0, 1, 2, 3)})
	s := c.sync(SyncRequest{Group: "g", MemberID: resp.MemberID, Generation: 1, Assignments: map[string][]byte{resp.MemberID: assignment}})
	sresp, err := s.result(t)
	require.NoError(t, err)
	require.Equal(t, assignment, sresp.Assignment)
	require.Equal(t, AssignorRange, sresp.Protocol)

	d, err = c.Describe("g")
	require.NoError(t, err)
	require.Equal(t, Stable, d.State)
	require.Equal(t, int32(1), d.Generation)
	require.Equal(t, resp.MemberID, d.Leader)
	require.Len(t, d.Members, 1)
	require.Equal(t, tps("orders", 0, 1, 2, 3), d.Members[0].Assignment)
	require.Equal(t, []string{"orders"}, d.Members[0].Topics)
	require.NoError(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: resp.MemberID, Generation: 1}))
}

// A second member's join starts a rebalance: the first member's heartbeat says so,
// and the new generation forms once it has rejoined. The leader gets both members;
// the follower's SyncGroup waits for the leader's.
func TestSecondMemberJoinRebalances(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, generation := stableGroup(t, c, "g", 1)
	a := ids[0]

	pb := c.join(consumerJoin("g", "", []string{"orders"}))
	require.False(t, pb.answered(), "the join waits for the first member")
	d, _ := c.Describe("g")
	require.Equal(t, PreparingRebalance, d.State)
	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: a, Generation: generation}), ErrRebalanceInProgress)
	// Commits are still accepted from the current generation, to commit before rejoining.
	require.NoError(t, c.CommitOffsets(testContext(t), CommitRequest{Group: "g", MemberID: a, Generation: generation,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 0): {Offset: 5}}}))

	pa := c.join(consumerJoin("g", a, []string{"orders"}))
	ra, err := pa.result(t)
	require.NoError(t, err)
	rb, err := pb.result(t)
	require.NoError(t, err)
	require.Equal(t, generation+1, ra.Generation)
	require.Equal(t, generation+1, rb.Generation)
	require.Equal(t, a, ra.LeaderID, "the leader stays the leader")
	require.Equal(t, a, rb.LeaderID)
	require.Len(t, ra.Members, 2)
	require.Empty(t, rb.Members, "only the leader gets the members")

	sb := c.sync(SyncRequest{Group: "g", MemberID: rb.MemberID, Generation: rb.Generation})
	require.False(t, sb.answered(), "the follower waits for the leader's assignment")
	assignments := map[string][]byte{
		a:           EncodeAssignment(MemberAssignment{Partitions: tps("orders", 0, 1)}),
		rb.MemberID: EncodeAssignment(MemberAssignment{Partitions: tps("orders", 2, 3)}),
	}
	sa := c.sync(SyncRequest{Group: "g", MemberID: a, Generation: ra.Generation, Assignments: assignments})
	got, err := sb.result(t)
	require.NoError(t, err)
	require.Equal(t, assignments[rb.MemberID], got.Assignment)
	got, err = sa.result(t)
	require.NoError(t, err)
	require.Equal(t, assignments[a], got.Assignment)
	d, _ = c.Describe("g")
	require.Equal(t, Stable, d.State)
}

// A member that stops heartbeating is removed when its session times out, and the
// group rebalances without it.
func TestSessionTimeoutRemovesMember(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, generation := stableGroup(t, c, "g", 2)
	a, b := ids[0], ids[1]

	deadline, ok := c.NextDeadline()
	require.True(t, ok)
	require.Equal(t, c.clock.Now().Add(10*time.Second), deadline)

	c.clock.Advance(6 * time.Second)
	require.NoError(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: a, Generation: generation}))
	c.Tick()
	d, _ := c.Describe("g")
	require.Equal(t, Stable, d.State, "nobody expired yet")

	c.clock.Advance(4 * time.Second) // b's session: 10 s without a heartbeat
	c.Tick()
	d, _ = c.Describe("g")
	require.Equal(t, PreparingRebalance, d.State)
	require.Len(t, d.Members, 1)
	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: b, Generation: generation}), ErrUnknownMemberID)
	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: a, Generation: generation}), ErrRebalanceInProgress)

	resp, err := c.join(consumerJoin("g", a, []string{"orders"})).result(t)
	require.NoError(t, err)
	require.Equal(t, generation+1, resp.Generation)
	require.Len(t, resp.Members, 1)

	// A stale generation is refused, and so is the removed member's commit.
	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: a, Generation: generation}), ErrIllegalGeneration)
	err = c.CommitOffsets(testContext(t), CommitRequest{Group: "g", MemberID: b, Generation: generation,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 0): {Offset: 1}}})
	require.ErrorIs(t, err, ErrUnknownMemberID)
}

// A rebalance does not wait forever: at the rebalance timeout, the members that did
// not rejoin are removed and the generation forms without them.
func TestRebalanceTimeoutRemovesMembersThatDidNotRejoin(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, generation := stableGroup(t, c, "g", 2)
	a, b := ids[0], ids[1]

	pc := c.join(consumerJoin("g", "", []string{"orders"}))
	pa := c.join(consumerJoin("g", a, []string{"orders"}))
	for range 2 { // b keeps heartbeating, but never rejoins
		c.clock.Advance(9 * time.Second)
		require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: b, Generation: generation}), ErrRebalanceInProgress)
		c.Tick()
	}
	require.False(t, pa.answered())
	deadline, ok := c.NextDeadline()
	require.True(t, ok)
	c.clock.Advance(deadline.Sub(c.clock.Now()))
	c.Tick()
	ra, err := pa.result(t)
	require.NoError(t, err)
	rc, err := pc.result(t)
	require.NoError(t, err)
	require.Equal(t, generation+1, ra.Generation)
	require.Len(t, ra.Members, 2)
	require.NotContains(t, []string{ra.Members[0].MemberID, ra.Members[1].MemberID}, b)
	require.Equal(t, rc.Generation, ra.Generation)
	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: b, Generation: generation}), ErrUnknownMemberID)
}

// A member that got its JoinGroup answer but never sends its SyncGroup is removed
// after the rebalance timeout, and the group rebalances.
func TestSyncTimeoutRemovesMember(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, generation := stableGroup(t, c, "g", 1)
	a := ids[0]
	pb := c.join(consumerJoin("g", "", []string{"orders"}))
	ra, err := c.join(consumerJoin("g", a, []string{"orders"})).result(t)
	require.NoError(t, err)
	rb, err := pb.result(t)
	require.NoError(t, err)
	// The leader syncs; b never does (but keeps heartbeating, so its session lives).
	c.sync(SyncRequest{Group: "g", MemberID: a, Generation: ra.Generation, Assignments: map[string][]byte{}})
	for range 3 {
		c.clock.Advance(9 * time.Second)
		require.NoError(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: a, Generation: ra.Generation}))
		require.NoError(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: rb.MemberID, Generation: rb.Generation}))
		c.Tick()
	}
	d, _ := c.Describe("g")
	require.Equal(t, Stable, d.State)
	c.clock.Advance(3 * time.Second) // 30 s: the rebalance timeout
	c.Tick()
	d, _ = c.Describe("g")
	require.Equal(t, PreparingRebalance, d.State)
	require.Len(t, d.Members, 1)
	require.Equal(t, generation+1, d.Generation)
}

// A member that leaves is removed at once and the others rebalance; the last member
// leaving leaves the group Empty, with the generation bumped.
func TestLeaveGroup(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, generation := stableGroup(t, c, "g", 2)
	a, b := ids[0], ids[1]
	require.NoError(t, c.LeaveGroup("g", b, ""))
	require.ErrorIs(t, c.LeaveGroup("g", b, ""), ErrUnknownMemberID)
	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: a, Generation: generation}), ErrRebalanceInProgress)
	resp, err := c.join(consumerJoin("g", a, []string{"orders"})).result(t)
	require.NoError(t, err)
	require.Len(t, resp.Members, 1)

	require.NoError(t, c.LeaveGroup("g", a, ""))
	d, err := c.Describe("g")
	require.NoError(t, err)
	require.Equal(t, Empty, d.State)
	require.Equal(t, resp.Generation+1, d.Generation)
	require.Empty(t, d.Members)
}

// The generation fences zombies: after a rebalance, a commit from the previous
// generation is refused, so it can never overwrite what the new owner commits.
func TestStaleGenerationCommitIsFenced(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ctx := testContext(t)
	ids, generation := stableGroup(t, c, "g", 2)
	a, b := ids[0], ids[1]
	commit := func(member string, generation int32, offset int64) error {
		return c.CommitOffsets(ctx, CommitRequest{Group: "g", MemberID: member, Generation: generation,
			Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 0): {Offset: offset, Metadata: member}}})
	}
	require.NoError(t, commit(b, generation, 10))

	// b is slow: the group rebalances (the leader rejoins) without it, a takes over.
	pa := c.join(consumerJoin("g", a, []string{"orders"}))
	require.False(t, pa.answered())
	c.clock.Advance(30 * time.Second)
	c.Tick()
	ra, err := pa.result(t)
	require.NoError(t, err)
	require.ErrorIs(t, commit(a, ra.Generation, 20), ErrRebalanceInProgress, "no commits before the assignment")
	c.sync(SyncRequest{Group: "g", MemberID: a, Generation: ra.Generation, Assignments: map[string][]byte{}})
	require.NoError(t, commit(a, ra.Generation, 20))

	// The zombie's commits are refused, whatever generation it claims.
	require.ErrorIs(t, commit(b, generation, 15), ErrUnknownMemberID)
	require.ErrorIs(t, commit(b, ra.Generation, 15), ErrUnknownMemberID)
	require.ErrorIs(t, commit(a, generation, 15), ErrIllegalGeneration)
	offsets, err := c.FetchOffsets(ctx, "g", nil)
	require.NoError(t, err)
	require.Equal(t, int64(20), offsets[tp("orders", 0)].Offset)
	require.Equal(t, a, offsets[tp("orders", 0)].Metadata)

	// A consumer outside any group cannot commit while the group has members...
	simple := func() error {
		return c.CommitOffsets(ctx, CommitRequest{Group: "g", Generation: -1,
			Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 0): {Offset: 1}}})
	}
	require.ErrorIs(t, simple(), ErrUnknownMemberID)
	// ...but can once it is empty.
	require.NoError(t, c.LeaveGroup("g", a, ""))
	require.NoError(t, simple())
}

// A consumer outside any group commits with generation -1 to a group nobody joined.
func TestSimpleConsumerCommits(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ctx := testContext(t)
	require.NoError(t, c.CommitOffsets(ctx, CommitRequest{Group: "standalone", Generation: -1,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 1): {Offset: 7, Metadata: "m"}}}))
	got, err := c.FetchOffsets(ctx, "standalone", []TopicPartition{tp("orders", 1), tp("orders", 2)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(7), got[tp("orders", 1)].Offset)
	require.Equal(t, "m", got[tp("orders", 1)].Metadata)
	require.True(t, got[tp("orders", 1)].CommitTime.Equal(c.clock.Now()))
	groups, err := c.ListGroups()
	require.NoError(t, err)
	require.Equal(t, []GroupListing{{Group: "standalone", State: Empty}}, groups)

	// Unknown groups have no offsets; a member id without a group is unknown.
	got, err = c.FetchOffsets(ctx, "nobody", nil)
	require.NoError(t, err)
	require.Empty(t, got)
	require.ErrorIs(t, c.CommitOffsets(ctx, CommitRequest{Group: "nobody", MemberID: "x", Generation: 1,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 1): {Offset: 7}}}), ErrUnknownMemberID)
}

// Bad commits are refused and change nothing.
func TestCommitValidation(t *testing.T) {
	c := newTestCoordinator(t, &Options{MaxOffsetMetadataBytes: 4})
	ctx := testContext(t)
	commit := func(group string, tp TopicPartition, o OffsetAndMetadata) error {
		return c.CommitOffsets(ctx, CommitRequest{Group: group, Generation: -1, Offsets: map[TopicPartition]OffsetAndMetadata{tp: o}})
	}
	require.ErrorIs(t, commit("", tp("orders", 0), OffsetAndMetadata{}), ErrInvalidGroupID)
	require.ErrorIs(t, commit("", tp("orders", 0), OffsetAndMetadata{}), ErrInvalidArgument)
	require.ErrorIs(t, commit("g", tp("", 0), OffsetAndMetadata{}), ErrInvalidArgument)
	require.ErrorIs(t, commit("g", tp("orders", -1), OffsetAndMetadata{}), ErrInvalidArgument)
	require.ErrorIs(t, commit("g", tp("orders", 0), OffsetAndMetadata{Offset: -1}), ErrInvalidArgument)
	require.ErrorIs(t, commit("g", tp("orders", 0), OffsetAndMetadata{Metadata: "12345"}), ErrOffsetMetadataTooLarge)
	require.NoError(t, commit("g", tp("orders", 0), OffsetAndMetadata{Metadata: "1234"}))
	require.Equal(t, []string{"g"}, c.store.Groups())
}

// Members must agree on the protocol type and on at least one protocol.
func TestInconsistentProtocol(t *testing.T) {
	c := newTestCoordinator(t, nil)
	_, err := c.join(consumerJoin("g", "", []string{"orders"}, AssignorRange, AssignorRoundRobin)).result(t)
	require.NoError(t, err)
	_, err = c.join(consumerJoin("g", "", []string{"orders"}, AssignorSticky)).result(t)
	require.ErrorIs(t, err, ErrInconsistentProtocol)
	other := consumerJoin("g", "", []string{"orders"})
	other.ProtocolType = "connect"
	_, err = c.join(other).result(t)
	require.ErrorIs(t, err, ErrInconsistentProtocol)
	// A member supporting one of the common protocols is welcome.
	p := c.join(consumerJoin("g", "", []string{"orders"}, AssignorSticky, AssignorRoundRobin))
	require.False(t, p.answered())
}

// The selected protocol is the one most members prefer among those all support; a
// tie goes to the leader's preference.
func TestProtocolSelection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members [][]string
		want    string
	}{
		{"one member", [][]string{{"range", "roundrobin"}}, "range"},
		{"majority", [][]string{{"range", "roundrobin"}, {"roundrobin", "range"}, {"roundrobin", "range"}}, "roundrobin"},
		{"tie goes to the leader", [][]string{{"roundrobin", "range"}, {"range", "roundrobin"}}, "roundrobin"},
		{"only the common one", [][]string{{"sticky", "range"}, {"range"}}, "range"},
		{"votes for unsupported protocols move on", [][]string{{"sticky", "roundrobin", "range"}, {"range", "roundrobin"}, {"roundrobin"}}, "roundrobin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCoordinator(t, nil)
			var joins []*pending[JoinResponse]
			for _, assignors := range tc.members {
				joins = append(joins, c.join(consumerJoin("g", "", []string{"orders"}, assignors...)))
			}
			// The first member formed generation 1 alone; everyone rejoins for the next.
			first, err := joins[0].result(t)
			require.NoError(t, err)
			rejoin := c.join(consumerJoin("g", first.MemberID, []string{"orders"}, tc.members[0]...))
			resp, err := rejoin.result(t)
			require.NoError(t, err)
			require.Equal(t, tc.want, resp.Protocol)
		})
	}
}

// A follower rejoining a stable group with the same protocols changes nothing; with
// a new subscription it starts a rebalance, and so does the leader rejoining.
func TestRejoinWithChangedSubscriptionRebalances(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, generation := stableGroup(t, c, "g", 2)
	a, b := ids[0], ids[1]
	resp, err := c.join(consumerJoin("g", b, []string{"orders"})).result(t)
	require.NoError(t, err)
	require.Equal(t, generation, resp.Generation)
	d, _ := c.Describe("g")
	require.Equal(t, Stable, d.State)

	pb := c.join(consumerJoin("g", b, []string{"orders", "payments"}))
	require.False(t, pb.answered())
	d, _ = c.Describe("g")
	require.Equal(t, PreparingRebalance, d.State)
	ra, err := c.join(consumerJoin("g", a, []string{"orders"})).result(t)
	require.NoError(t, err)
	require.Equal(t, generation+1, ra.Generation)
	c.sync(SyncRequest{Group: "g", MemberID: a, Generation: ra.Generation, Assignments: map[string][]byte{}})

	pa := c.join(consumerJoin("g", a, []string{"orders"}))
	require.False(t, pa.answered(), "the leader rejoining starts a rebalance")
}

// A static member that restarts (rejoins with its instance id and no member id)
// takes its old place without a rebalance and gets its old assignment; the old
// member id is fenced.
func TestStaticMemberReplacesItself(t *testing.T) {
	c := newTestCoordinator(t, nil)
	static := func(memberID string) JoinRequest {
		req := consumerJoin("g", memberID, []string{"orders"})
		req.InstanceID = "worker-1"
		return req
	}
	ra, err := c.join(consumerJoin("g", "", []string{"orders"})).result(t)
	require.NoError(t, err)
	pb := c.join(static(""))
	ra, err = c.join(consumerJoin("g", ra.MemberID, []string{"orders"})).result(t)
	require.NoError(t, err)
	rb, err := pb.result(t)
	require.NoError(t, err)
	assignments := map[string][]byte{
		ra.MemberID: EncodeAssignment(MemberAssignment{Partitions: tps("orders", 0, 1)}),
		rb.MemberID: EncodeAssignment(MemberAssignment{Partitions: tps("orders", 2, 3)}),
	}
	c.sync(SyncRequest{Group: "g", MemberID: ra.MemberID, Generation: ra.Generation, Assignments: assignments})
	c.sync(SyncRequest{Group: "g", MemberID: rb.MemberID, InstanceID: "worker-1", Generation: rb.Generation})

	// worker-1 restarts.
	rb2, err := c.join(static("")).result(t)
	require.NoError(t, err)
	require.NotEqual(t, rb.MemberID, rb2.MemberID)
	require.Equal(t, rb.Generation, rb2.Generation, "no rebalance")
	s, err := c.sync(SyncRequest{Group: "g", MemberID: rb2.MemberID, InstanceID: "worker-1", Generation: rb2.Generation}).result(t)
	require.NoError(t, err)
	require.Equal(t, assignments[rb.MemberID], s.Assignment)
	d, _ := c.Describe("g")
	require.Equal(t, Stable, d.State)

	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: rb.MemberID, InstanceID: "worker-1", Generation: rb.Generation}), ErrFencedInstanceID)
	require.ErrorIs(t, c.CommitOffsets(testContext(t), CommitRequest{Group: "g", MemberID: rb.MemberID, InstanceID: "worker-1", Generation: rb.Generation,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 2): {Offset: 1}}}), ErrFencedInstanceID)
	require.NoError(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: rb2.MemberID, InstanceID: "worker-1", Generation: rb2.Generation}))
	// A static member leaves by instance id.
	require.NoError(t, c.LeaveGroup("g", "", "worker-1"))
	d, _ = c.Describe("g")
	require.Equal(t, PreparingRebalance, d.State)
}

// Invalid joins are refused before anything changes.
func TestJoinValidation(t *testing.T) {
	c := newTestCoordinator(t, nil)
	for name, mutate := range map[string]func(*JoinRequest){
		"empty group":           func(r *JoinRequest) { r.Group = "" },
		"no protocols":          func(r *JoinRequest) { r.Protocols = nil },
		"duplicate protocol":    func(r *JoinRequest) { r.Protocols = append(r.Protocols, r.Protocols[0]) },
		"empty protocol type":   func(r *JoinRequest) { r.ProtocolType = "" },
		"session too short":     func(r *JoinRequest) { r.SessionTimeout = time.Second },
		"session too long":      func(r *JoinRequest) { r.SessionTimeout = time.Hour },
		"negative rebalance":    func(r *JoinRequest) { r.RebalanceTimeout = -time.Second },
		"unknown member of new": func(r *JoinRequest) { r.MemberID = "ghost" },
	} {
		t.Run(name, func(t *testing.T) {
			req := consumerJoin("g", "", []string{"orders"})
			mutate(&req)
			_, err := c.join(req).result(t)
			require.Error(t, err)
			if name == "session too short" || name == "session too long" {
				require.ErrorIs(t, err, ErrInvalidSessionTimeout)
			}
		})
	}
	groups, err := c.ListGroups()
	require.NoError(t, err)
	require.Empty(t, groups)
}

// Close answers every waiting call with ErrCoordinatorClosed, and every later call
// gets it too.
func TestCloseFailsWaitingCalls(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, generation := stableGroup(t, c, "g", 1)
	pb := c.join(consumerJoin("g", "", []string{"orders"}))
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	_, err := pb.result(t)
	require.ErrorIs(t, err, ErrCoordinatorClosed)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: ids[0], Generation: generation}), ErrCoordinatorClosed)
	_, err = c.join(consumerJoin("g", "", []string{"orders"})).result(t)
	require.ErrorIs(t, err, ErrCoordinatorClosed)
	require.ErrorIs(t, c.CommitOffsets(context.Background(), CommitRequest{Group: "g", Generation: -1,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp("orders", 0): {}}}), ErrCoordinatorClosed)
	_, err = c.Describe("g")
	require.ErrorIs(t, err, ErrCoordinatorClosed)
}

// A member waiting in SyncGroup cannot heartbeat. When the wait ends because the
// leader's session timed out (a rebalance), the member's session starts again: it
// is not expired in the same Tick, though it last heartbeated a session ago.
// (Found by TestOwnershipInvariant: the expired member was a zombie still owning
// partitions under the cooperative protocol.)
func TestMemberAnsweredAfterLongSyncWaitKeepsItsSession(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ids, _ := stableGroup(t, c, "g", 1)
	leader := ids[0]
	pb := c.join(consumerJoin("g", "", []string{"orders"}))
	ra, err := c.join(consumerJoin("g", leader, []string{"orders"})).result(t)
	require.NoError(t, err)
	rb, err := pb.result(t)
	require.NoError(t, err)
	sb := c.sync(SyncRequest{Group: "g", MemberID: rb.MemberID, Generation: rb.Generation})
	// The leader crashed before its SyncGroup: nobody heartbeats for a session.
	c.clock.Advance(10 * time.Second)
	c.Tick()
	_, err = sb.result(t)
	require.ErrorIs(t, err, ErrRebalanceInProgress)
	d, _ := c.Describe("g")
	require.Len(t, d.Members, 1)
	require.Equal(t, rb.MemberID, d.Members[0].MemberID, "the follower stays")
	require.NotEqual(t, ra.MemberID, d.Members[0].MemberID)
	resp, err := c.join(consumerJoin("g", rb.MemberID, []string{"orders"})).result(t)
	require.NoError(t, err)
	require.Equal(t, rb.MemberID, resp.LeaderID)
}
