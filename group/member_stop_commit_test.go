package group

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// A member whose RunUntil was stopped while its JoinGroup waited for the group can
// still commit in Leave's OnRevoked: the group may not form its next generation
// with the join the member gave up (that would fence the member out of the
// generation it still owns partitions in, and refuse its last commit, so that
// whoever takes its partitions reads their records again).
func TestMemberStoppedInJoinCommitsInLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var (
			closing   *Member
			commitErr = make(chan error, 2)
		)
		closing, err := c.NewMember(MemberConfig{
			Group: "g", Topics: []string{"orders"},
			OnRevoked: func(tps []TopicPartition) {
				offsets := map[TopicPartition]OffsetAndMetadata{}
				for _, tp := range tps {
					offsets[tp] = OffsetAndMetadata{Offset: 7}
				}
				commitErr <- closing.Commit(ctx, offsets)
			},
		})
		require.NoError(t, err)
		stop := make(chan struct{})
		stopped := make(chan error, 1)
		go func() { stopped <- closing.RunUntil(ctx, stop, time.Second) }()
		synctest.Wait()
		require.Len(t, closing.Assignment().Partitions, 4)

		// A second member, slow to rejoin: its OnAssigned waits for hold.
		hold := make(chan struct{})
		slow, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}, OnAssigned: func([]TopicPartition) { <-hold }})
		require.NoError(t, err)
		go slow.Run(ctx, time.Second)
		synctest.Wait() // closing gave two partitions up (and committed them); slow waits in OnAssigned
		require.NoError(t, <-commitErr)
		require.Len(t, closing.Assignment().Partitions, 2)

		// A third member joins: closing rejoins at once and waits for slow.
		third, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
		require.NoError(t, err)
		go third.Run(ctx, time.Second)
		synctest.Wait()
		close(stop) // closing gives its join up
		require.NoError(t, <-stopped)
		close(hold) // slow rejoins: the group completes the rebalance
		synctest.Wait()

		owned := closing.Assignment().Partitions
		require.NoError(t, closing.Leave(ctx))
		require.NoError(t, <-commitErr, "the commit of what the closing member owned")
		committed, err := c.FetchOffsets(ctx, "g", owned)
		require.NoError(t, err)
		require.Len(t, committed, len(owned))
		for _, o := range committed {
			require.Equal(t, int64(7), o.Offset)
		}
	})
}
