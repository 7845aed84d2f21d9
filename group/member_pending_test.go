package group

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// Assignment.Pending lists the partitions a SyncGroup gave the member until its
// OnAssigned returned for them: meanwhile the member is in its new generation, but
// has not taken them (an application that counts on what it owns waits).
func TestMemberAssignmentPendingUntilOnAssignedReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		var (
			m      *Member
			during Assignment
		)
		m, err := c.NewMember(MemberConfig{
			Group:      "g",
			Topics:     []string{"orders"},
			OnAssigned: func([]TopicPartition) { during = m.Assignment() },
		})
		require.NoError(t, err)
		a, err := m.Join(context.Background())
		require.NoError(t, err)
		require.GreaterOrEqual(t, during.Generation, int32(0), "in the generation")
		require.Equal(t, tps("orders", 0, 1, 2, 3), during.Pending)
		require.Equal(t, tps("orders", 0, 1, 2, 3), during.Partitions)
		require.Empty(t, a.Pending)
		require.Empty(t, m.Assignment().Pending)
	})
}
