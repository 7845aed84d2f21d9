package log_test

import (
	"context"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

// TestElectPreferredLeadersOfMovesOnlyTheNamedPartitions stops and restarts the
// preferred leader of two partitions: electing one of them moves its
// leadership back, and only its.
func TestElectPreferredLeadersOfMovesOnlyTheNamedPartitions(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 6, ReplicationFactor: 3})
	preferred := describe(t, s, "orders").Partitions[0].Replicas[0]
	var led []int32 // the partitions whose preferred replica is on that broker
	for _, p := range describe(t, s, "orders").Partitions {
		if p.Replicas[0] == preferred {
			require.Equal(t, preferred, p.Leader)
			led = append(led, p.Partition)
		}
	}
	require.GreaterOrEqual(t, len(led), 2, "broker %d is the preferred leader of two partitions", preferred)
	require.NoError(t, s.StopBroker(preferred))
	require.NoError(t, s.StartBroker(preferred))
	require.NoError(t, s.AwaitInSync(context.Background()))
	for _, p := range led {
		require.NotEqual(t, preferred, describe(t, s, "orders").Partitions[p].Leader)
	}

	n, err := s.ElectPreferredLeadersOf(log.TopicPartition{Topic: "orders", Partition: led[0]})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	d := describe(t, s, "orders")
	require.Equal(t, preferred, d.Partitions[led[0]].Leader)
	require.NotEqual(t, preferred, d.Partitions[led[1]].Leader)

	_, err = s.ElectPreferredLeadersOf(log.TopicPartition{Topic: "orders", Partition: 6})
	require.ErrorIs(t, err, log.ErrUnknownPartition)
	_, err = s.ElectPreferredLeadersOf(log.TopicPartition{Topic: "missing"})
	require.ErrorIs(t, err, log.ErrUnknownTopic)
}
