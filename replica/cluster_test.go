package replica

import (
	"context"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stretchr/testify/require"
)

func TestProduceAcksAllReplicatesToEveryReplica(t *testing.T) {
	tc := newTestCluster(t, 3, ClusterOptions{})
	p, err := tc.c.CreatePartition("orders-0", []BrokerID{1, 2, 0}, Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	require.Equal(t, BrokerID(1), p.State().Leader)
	ctx := context.Background()
	for i := range 10 {
		base, err := p.Produce(ctx, records("a", 5), AcksAll)
		require.NoError(t, err)
		require.Equal(t, int64(5*i), base)
	}
	hw, err := p.HighWatermark()
	require.NoError(t, err)
	require.Equal(t, int64(50), hw)
	leader, _ := p.Leader()
	want := logBytes(t, leader)
	waitFor(t, p, func() bool {
		for _, r := range p.Replicas() {
			if r.log.HighWatermark() < 50 {
				return false
			}
		}
		return true
	})
	for id, r := range p.Replicas() {
		require.Equal(t, want, logBytes(t, r), "broker %d", id)
	}
	require.Equal(t, []BrokerID{1, 2, 0}, p.State().ISR)
}

func TestFailoverElectsAnInSyncReplica(t *testing.T) {
	tc := newTestCluster(t, 3, ClusterOptions{})
	p, err := tc.c.CreatePartition("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = p.Produce(ctx, records("a", 10), AcksAll)
	require.NoError(t, err)
	require.NoError(t, tc.c.StopBroker(0))
	s := p.State()
	require.Equal(t, BrokerID(1), s.Leader)
	require.Equal(t, int32(1), s.LeaderEpoch)
	require.Equal(t, []BrokerID{1, 2}, s.ISR)
	base, err := p.Produce(ctx, records("b", 10), AcksAll)
	require.NoError(t, err)
	require.Equal(t, int64(10), base)
	require.NoError(t, tc.c.StartBroker(0))
	waitFor(t, p, func() bool { return len(p.State().ISR) == 3 })
	leader, _ := p.Leader()
	want := logBytes(t, leader)
	waitFor(t, p, func() bool { return p.Replica(0).log.WrittenOffset() == 20 })
	require.Equal(t, want, logBytes(t, p.Replica(0)))
	n, err := tc.c.ElectPreferred()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, BrokerID(0), p.State().Leader)
	_, err = p.Produce(ctx, records("c", 1), AcksAll)
	require.NoError(t, err)
}

func TestAcksAllFailsFastBelowMinISR(t *testing.T) {
	tc := newTestCluster(t, 3, ClusterOptions{})
	p, err := tc.c.CreatePartition("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	require.NoError(t, tc.c.StopBroker(1))
	require.NoError(t, tc.c.StopBroker(2))
	_, err = p.Produce(context.Background(), records("a", 1), AcksAll)
	require.ErrorIs(t, err, ErrNotEnoughReplicas)
	_, err = p.Produce(context.Background(), records("a", 1), AcksLeader)
	require.NoError(t, err)
}

func TestLeadershipReturnsToThePreferredReplica(t *testing.T) {
	tc := newTestCluster(t, 3, ClusterOptions{LeaderRebalanceInterval: time.Millisecond})
	p, err := tc.c.CreatePartition("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	_, err = p.Produce(context.Background(), records("a", 3), AcksAll)
	require.NoError(t, err)
	require.NoError(t, tc.c.StopBroker(0))
	require.NotEqual(t, BrokerID(0), p.State().Leader)
	require.NoError(t, tc.c.StartBroker(0))
	waitFor(t, p, func() bool { return p.State().Leader == 0 })
	require.NoError(t, tc.c.Settle(context.Background()))
	hw, err := p.HighWatermark()
	require.NoError(t, err)
	require.Equal(t, int64(3), hw)
}

func TestReplicaLostNeverLeadsUntilCaughtUp(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 1})
	sc.produce(p, AcksAll, "a", "b")
	require.NoError(t, sc.c.ReplicaLost("t-0", 0))
	s := p.State()
	require.Equal(t, BrokerID(1), s.Leader, "the replica that lost its records gave up the leadership")
	require.Equal(t, []BrokerID{1, 2}, s.ISR)
	require.Empty(t, s.ELR)
	require.Equal(t, int32(1), s.LeaderEpoch)
}
