package replica

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAssignReplicasAsKafka(t *testing.T) {
	brokers := []BrokerID{0, 1, 2}
	got, err := AssignReplicas(brokers, 6, 3, 0)
	require.NoError(t, err)
	require.Equal(t, [][]BrokerID{
		{0, 1, 2}, {1, 2, 0}, {2, 0, 1},
		{0, 2, 1}, {1, 0, 2}, {2, 1, 0},
	}, got)
	// Adding partitions continues where the topic left off.
	more, err := AssignReplicas(brokers, 3, 3, 6)
	require.NoError(t, err)
	all, err := AssignReplicas(brokers, 9, 3, 0)
	require.NoError(t, err)
	require.Equal(t, all[6:], more)
}

func TestAssignReplicasSpreadsLeadersEvenly(t *testing.T) {
	brokers := []BrokerID{0, 1, 2, 3, 4}
	got, err := AssignReplicas(brokers, 100, 3, 0)
	require.NoError(t, err)
	leaders := map[BrokerID]int{}
	replicas := map[BrokerID]int{}
	for _, a := range got {
		require.Len(t, a, 3)
		require.NoError(t, validateReplicas(a))
		leaders[a[0]]++
		for _, b := range a {
			replicas[b]++
		}
	}
	for _, b := range brokers {
		require.Equal(t, 20, leaders[b])
		require.Equal(t, 60, replicas[b])
	}
}

func TestAssignReplicasRefuses(t *testing.T) {
	_, err := AssignReplicas([]BrokerID{0, 1}, 1, 3, 0)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = AssignReplicas([]BrokerID{0, 1}, 1, 0, 0)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = AssignReplicas([]BrokerID{0, 0}, 1, 1, 0)
	require.ErrorIs(t, err, ErrInvalidArgument)
}
