package group

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// Members kept in the group by Run hear of a rebalance from the coordinator at
// once: a second member joining, and a subscription change, settle without a
// heartbeat interval passing.
func TestMemberRunRejoinsWhenTheCoordinatorSays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		began := time.Now()
		var members []*Member
		for range 2 {
			m, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
			require.NoError(t, err)
			members = append(members, m)
			go m.Run(ctx, time.Hour)
		}
		synctest.Wait()
		for _, m := range members {
			require.Len(t, m.Assignment().Partitions, 2)
		}
		require.NoError(t, members[1].Subscribe(nil))
		synctest.Wait()
		require.Len(t, members[0].Assignment().Partitions, 4, "the other member took what the unsubscribed one gave up")
		require.Empty(t, members[1].Assignment().Partitions)
		require.Zero(t, time.Since(began), "no heartbeat interval passed")
	})
}

// RunUntil returns once stop closes, also while its Join waits for the rest of the
// group in JoinGroup; the member knows its id (the member-id handshake) and Leave
// takes it out of the group.
func TestMemberRunUntilStopsAJoinWaitingForTheGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		ctx := context.Background()
		first, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
		require.NoError(t, err)
		_, err = first.Join(ctx) // settled, but never heartbeats: the group waits for it
		require.NoError(t, err)
		late, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
		require.NoError(t, err)
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- late.RunUntil(ctx, stop, time.Second) }()
		synctest.Wait()
		close(stop)
		require.NoError(t, <-done)
		require.NotEmpty(t, late.Assignment().MemberID, "the handshake gave the member its id")
		require.NoError(t, late.Leave(ctx))
		d, err := c.Describe("g")
		require.NoError(t, err)
		require.Len(t, d.Members, 1)
		require.Equal(t, first.Assignment().MemberID, d.Members[0].MemberID)
	})
}
