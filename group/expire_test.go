package group

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/vfs"
)

const day = 24 * time.Hour

// restartable is a coordinator over a PartitionOffsetStore on an in-memory file
// system, which a test can close and open again on the same clock.
type restartable struct {
	*testCoordinator
	fsys  vfs.FS
	store *PartitionOffsetStore
}

func openRestartable(t *testing.T, fsys vfs.FS, clock *fakeClock) *restartable {
	t.Helper()
	store := openStore(t, fsys)
	c := newTestCoordinator(t, &Options{Offsets: store, Now: clock.Now})
	c.clock = clock
	return &restartable{testCoordinator: c, fsys: fsys, store: store}
}

func (r *restartable) restart(t *testing.T) *restartable {
	t.Helper()
	require.NoError(t, r.Close())
	require.NoError(t, r.store.Close())
	return openRestartable(t, r.fsys, r.clock)
}

func commitOne(t *testing.T, c *testCoordinator, group, member string, generation int32, tp TopicPartition, offset int64) {
	t.Helper()
	require.NoError(t, c.CommitOffsets(testContext(t), CommitRequest{Group: group, MemberID: member, Generation: generation,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp: {Offset: offset}}}))
}

// A restarted coordinator has every committed offset, knows every group (empty, with
// the generation it had), and continues its generations.
func TestOffsetsAndGroupsSurviveRestart(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	ctx := testContext(t)
	ids, generation := stableGroup(t, r.testCoordinator, "g", 2)
	commitOne(t, r.testCoordinator, "g", ids[0], generation, tp("orders", 0), 42)
	commitOne(t, r.testCoordinator, "g", ids[1], generation, tp("orders", 2), 7)
	commitOne(t, r.testCoordinator, "standalone", "", -1, tp("payments", 1), 3)

	r = r.restart(t)
	groups, err := r.ListGroups()
	require.NoError(t, err)
	require.Equal(t, []GroupListing{
		{Group: "g", State: Empty, ProtocolType: ProtocolTypeConsumer},
		{Group: "standalone", State: Empty},
	}, groups)
	offsets, err := r.FetchOffsets(ctx, "g", nil)
	require.NoError(t, err)
	require.Equal(t, int64(42), offsets[tp("orders", 0)].Offset)
	require.Equal(t, int64(7), offsets[tp("orders", 2)].Offset)
	offsets, err = r.FetchOffsets(ctx, "standalone", nil)
	require.NoError(t, err)
	require.Equal(t, int64(3), offsets[tp("payments", 1)].Offset)

	// The old members are strangers; a new one continues the generations.
	require.ErrorIs(t, r.Heartbeat(HeartbeatRequest{Group: "g", MemberID: ids[0], Generation: generation}), ErrUnknownMemberID)
	resp, err := r.join(consumerJoin("g", "", []string{"orders"})).result(t)
	require.NoError(t, err)
	require.Equal(t, generation+1, resp.Generation)
}

// Offset retention, as Kafka applies offsets.retention.minutes.
func TestExpireOffsets(t *testing.T) {
	t.Run("consumers outside any group: each offset by its commit time", func(t *testing.T) {
		c := newTestCoordinator(t, nil)
		ctx := testContext(t)
		commitOne(t, c, "s", "", -1, tp("orders", 0), 1)
		c.clock.Advance(3 * day)
		commitOne(t, c, "s", "", -1, tp("orders", 1), 2)
		c.clock.Advance(4*day - time.Second)
		n, err := c.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		c.clock.Advance(time.Second)
		n, err = c.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		offsets, _ := c.FetchOffsets(ctx, "s", nil)
		require.Len(t, offsets, 1)
		c.clock.Advance(3 * day)
		n, err = c.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		groups, _ := c.ListGroups()
		require.Empty(t, groups, "a group without offsets or members is deleted")
	})
	t.Run("a group: all offsets once it has been empty for the retention", func(t *testing.T) {
		c := newTestCoordinator(t, nil)
		ctx := testContext(t)
		ids, generation := stableGroup(t, c, "g", 1)
		commitOne(t, c, "g", ids[0], generation, tp("orders", 0), 5)
		c.clock.Advance(30 * day) // old commits, but the group is alive
		require.NoError(t, c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: ids[0], Generation: generation}))
		n, err := c.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.NoError(t, c.LeaveGroup("g", ids[0], ""))
		require.NoError(t, c.Flush(ctx))
		c.clock.Advance(7*day - time.Millisecond)
		n, err = c.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		c.clock.Advance(time.Millisecond)
		n, err = c.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = c.Describe("g")
		require.ErrorIs(t, err, ErrGroupNotFound)
		require.Empty(t, c.store.Groups(), "offsets and the group record are deleted")
	})
	t.Run("how long a group has been empty survives a restart", func(t *testing.T) {
		r := openRestartable(t, vfs.NewMem(), newFakeClock())
		ctx := testContext(t)
		ids, generation := stableGroup(t, r.testCoordinator, "g", 1)
		commitOne(t, r.testCoordinator, "g", ids[0], generation, tp("orders", 0), 5)
		require.NoError(t, r.LeaveGroup("g", ids[0], ""))
		r.clock.Advance(5 * day)
		r = r.restart(t) // Close flushed the group record: empty since day 0
		r.clock.Advance(2 * day)
		n, err := r.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
	t.Run("a group active when the process stopped is empty since the restart", func(t *testing.T) {
		r := openRestartable(t, vfs.NewMem(), newFakeClock())
		ctx := testContext(t)
		ids, generation := stableGroup(t, r.testCoordinator, "g", 1)
		commitOne(t, r.testCoordinator, "g", ids[0], generation, tp("orders", 0), 5)
		r.clock.Advance(10 * day)
		r = r.restart(t)
		r.clock.Advance(7*day - time.Second)
		n, err := r.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		r.clock.Advance(time.Second)
		n, err = r.ExpireOffsets(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
	t.Run("negative retention keeps everything", func(t *testing.T) {
		c := newTestCoordinator(t, &Options{OffsetsRetention: -1})
		commitOne(t, c, "s", "", -1, tp("orders", 0), 1)
		c.clock.Advance(365 * day)
		n, err := c.ExpireOffsets(testContext(t))
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// Deleting a topic deletes its offsets in every group, and nothing else.
func TestDeleteTopicOffsets(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	ctx := testContext(t)
	for _, group := range []string{"a", "b"} {
		require.NoError(t, r.CommitOffsets(ctx, CommitRequest{Group: group, Generation: -1, Offsets: map[TopicPartition]OffsetAndMetadata{
			tp("orders", 0): {Offset: 1}, tp("orders", 1): {Offset: 2}, tp("payments", 0): {Offset: 3},
		}}))
	}
	n, err := r.DeleteTopicOffsets(ctx, "orders")
	require.NoError(t, err)
	require.Equal(t, 4, n)
	r = r.restart(t)
	for _, group := range []string{"a", "b"} {
		offsets, err := r.FetchOffsets(ctx, group, nil)
		require.NoError(t, err)
		require.Len(t, offsets, 1)
		require.Equal(t, int64(3), offsets[tp("payments", 0)].Offset)
	}
}

// DeleteGroup deletes an empty group with its offsets, and refuses others.
func TestDeleteGroup(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ctx := testContext(t)
	ids, generation := stableGroup(t, c, "g", 1)
	commitOne(t, c, "g", ids[0], generation, tp("orders", 0), 1)
	require.ErrorIs(t, c.DeleteGroup(ctx, "g"), ErrNonEmptyGroup)
	require.ErrorIs(t, c.DeleteGroup(ctx, "nope"), ErrGroupNotFound)
	require.ErrorIs(t, c.DeleteGroup(ctx, ""), ErrInvalidGroupID)
	require.NoError(t, c.LeaveGroup("g", ids[0], ""))
	require.NoError(t, c.Flush(ctx))
	require.NoError(t, c.DeleteGroup(ctx, "g"))
	offsets, err := c.FetchOffsets(ctx, "g", nil)
	require.NoError(t, err)
	require.Empty(t, offsets)
	require.Empty(t, c.store.Groups())
	groups, _ := c.ListGroups()
	require.Empty(t, groups)
}

// Describe shows each partition's owner, committed offset, end offset and lag.
func TestDescribeLag(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ctx := context.Background()
	m, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"payments"}, ClientID: "app", Assignors: []Assignor{RangeAssignor{}}})
	require.NoError(t, err)
	a, err := m.Join(ctx)
	require.NoError(t, err)
	require.Equal(t, tps("payments", 0, 1), a.Partitions)
	c.metadata.setEnd(tp("payments", 0), 100)
	c.metadata.setEnd(tp("payments", 1), 50)
	require.NoError(t, m.Commit(ctx, map[TopicPartition]OffsetAndMetadata{tp("payments", 0): {Offset: 90, Metadata: "x"}}))
	commitOne(t, c, "other", "", -1, tp("orders", 3), 1) // another group's commit is not shown

	d, err := c.Describe("g")
	require.NoError(t, err)
	require.Equal(t, Stable, d.State)
	require.Equal(t, AssignorRange, d.Protocol)
	require.Equal(t, int32(1), d.Generation)
	require.Len(t, d.Members, 1)
	require.Equal(t, "app", d.Members[0].ClientID)
	require.Equal(t, []string{"payments"}, d.Members[0].Topics)
	require.Equal(t, tps("payments", 0, 1), d.Members[0].Assignment)
	require.Len(t, d.Partitions, 2)
	p0, p1 := d.Partitions[0], d.Partitions[1]
	require.Equal(t, PartitionLag{TopicPartition: tp("payments", 0), Owner: a.MemberID, Committed: 90, Metadata: "x",
		CommitTime: p0.CommitTime, EndOffset: 100, Lag: 10}, p0)
	require.Equal(t, PartitionLag{TopicPartition: tp("payments", 1), Owner: a.MemberID, Committed: -1, EndOffset: 50, Lag: -1}, p1)
}
