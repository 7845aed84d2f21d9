package replica

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

// Scenarios found in review: each failed before the fix named in its commit.

// TestLoweredMinISRClearsTheELR: an eligible leader replica (ELR) holds every
// committed record only because the high watermark cannot advance while the ISR is
// below min.insync.replicas. Lowering min.insync.replicas to the ISR's size lets the
// high watermark advance without the ELR members, so they must leave the ELR then,
// as they do when the ISR grows back to min.insync.replicas; otherwise a clean
// election may take one of them and lose acknowledged records.
func TestLoweredMinISRClearsTheELR(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 3})
	sc.produce(p, AcksAll, "a")
	sc.stop(2)
	require.Equal(t, []BrokerID{0, 1}, p.State().ISR)
	require.Equal(t, []BrokerID{2}, p.State().ELR)

	s, err := sc.c.Controller().SetConfig("t-0", Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	sc.c.applyAll(map[string]State{"t-0": s})
	require.Empty(t, p.State().ELR, "broker 2 misses what the high watermark passes from now on")

	sc.produce(p, AcksAll, "b") // acknowledged by brokers 0 and 1
	sc.stop(1)
	sc.stop(0)
	sc.start(2)
	if _, err := p.Leader(); err == nil {
		require.NotEqual(t, BrokerID(2), p.State().Leader, "broker 2 lacks the acknowledged record")
	}
	sc.start(0)
	sc.start(1)
	sc.replicate()
	leader, err := p.Leader()
	require.NoError(t, err)
	require.Equal(t, []string{"0:a", "1:b"}, sc.values(leader))
}

// TestClusterSetConfigAppliesTheState: a configuration change reaches the replicas
// (the leader's acks=all check reads its min.insync.replicas) and an unclean
// election it allows gives the partition a leader.
func TestClusterSetConfigAppliesTheState(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 3})
	sc.produce(p, AcksAll, "a")
	sc.stop(2)
	_, err := sc.tryProduce(p, AcksAll, "refused")
	require.ErrorIs(t, err, ErrNotEnoughReplicas)
	_, err = sc.c.SetConfig("t-0", Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	require.Equal(t, 2, p.State().Config.MinInsyncReplicas)
	sc.produce(p, AcksAll, "b")

	// Broker 0 and 1 go; broker 2, outside the ISR and the ELR, may lead only
	// uncleanly.
	sc.stop(1)
	sc.stop(0)
	sc.start(2)
	_, err = p.Leader()
	require.ErrorIs(t, err, ErrNoLeader)
	s, err := sc.c.SetConfig("t-0", Config{MinInsyncReplicas: 1, UncleanLeaderElection: true})
	require.NoError(t, err)
	require.Equal(t, BrokerID(2), s.Leader)
	leader, err := p.Leader()
	require.NoError(t, err)
	require.True(t, leader.IsLeader())
	require.Equal(t, s, p.State())
	_, err = sc.c.SetConfig("t-1", Config{})
	require.ErrorIs(t, err, ErrUnknownPartition)
}

// TestRestartedBrokerIsNotFailedByItsFormerReplicas: a broker whose disk failed is
// stopped and started again (its disk replaced). What its former incarnation left
// behind must not take the new one offline: a failure the controller was not told of
// yet (handled=false), or a former replica whose fetch loop, still running, meets
// its failed log.
func TestRestartedBrokerIsNotFailedByItsFormerReplicas(t *testing.T) {
	for _, handled := range []bool{true, false} {
		t.Run(fmt.Sprint("handled=", handled), func(t *testing.T) {
			sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
			p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
			sc.produce(p, AcksAll, "a")
			former := p.Replica(1)
			sc.faults[1].Set(vfs.FailOp(vfs.OpWrite, syscall.EIO))
			sc.produce(p, AcksLeader, "b")
			sc.replicate()
			require.True(t, sc.c.Failed(1))
			if handled {
				sc.c.handleDiskFailures()
				require.Equal(t, []BrokerID{0, 2}, p.State().ISR)
			}
			sc.faults[1].Set(nil)
			_ = sc.c.StopBroker(1) // closing the failed log reports its failure
			sc.start(1)

			_ = former.fetchOnce(context.Background(), 0)
			sc.c.handleDiskFailures()
			require.False(t, sc.c.Failed(1))
			require.True(t, sc.c.Online(1))
			sc.replicate()
			require.Equal(t, []BrokerID{0, 1, 2}, p.State().ISR)
			require.Equal(t, []string{"0:a", "1:b"}, sc.values(p.Replica(1)))
		})
	}
}

// notLeaderYet is a Network whose leaders answer ErrNotLeader to the first refuse
// fetches: as a new leader does when its followers learn of the election before it
// applied its leadership (a Cluster applies a state to the replicas one at a time,
// and a replica takes its role only once its appends in flight are done).
type notLeaderYet struct {
	*Network
	refuse atomic.Int32
}

func (n *notLeaderYet) Fetch(ctx context.Context, from, to BrokerID, req *FetchRequest) (*FetchResponse, error) {
	if n.refuse.Add(-1) >= 0 {
		return nil, fmt.Errorf("strata/replica: %s on broker %d: %w", req.Partition, to, ErrNotLeader)
	}
	return n.Network.Fetch(ctx, from, to, req)
}

// TestFollowerRetriesALeaderNotLeadingYet: a follower told ErrNotLeader by the
// broker its state names leader retries after its backoff, as Kafka's fetcher does;
// waiting for its own state to change instead left it idle until the leader, which
// never heard from it, shrank the ISR after the replica lag time.
func TestFollowerRetriesALeaderNotLeadingYet(t *testing.T) {
	net := &notLeaderYet{Network: NewNetwork(nil)}
	net.refuse.Store(1)
	fsys := map[BrokerID]vfs.FS{0: vfs.NewMem(), 1: vfs.NewMem()}
	c, err := NewCluster(ClusterOptions{
		Transport: net, ReplicaLagTime: time.Hour, FetchMaxWait: time.Hour,
		OpenLog: func(b BrokerID, name string, replicated bool) (*partition.Partition, error) {
			return partition.Open(fmt.Sprintf("/broker-%d/%s", b, name), &partition.Options{FS: fsys[b], Replicated: replicated})
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.StartBroker(0))
	require.NoError(t, c.StartBroker(1))
	p, err := c.CreatePartition("t-0", []BrokerID{0, 1}, Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = p.Produce(ctx, records("a", 1), AcksAll)
	require.NoError(t, err, "the follower never fetched again")
}

// TestHighWatermarkFollowsTheLeadersBackgroundFsync: an acks=leader produce under
// SyncEveryAppend returns before its fsync, which a background goroutine does; the
// leader's high watermark must then follow its acknowledged offset without waiting
// for a follower's fetch, which may never come (here the ISR is the leader alone),
// or come only after FetchMaxWait.
func TestHighWatermarkFollowsTheLeadersBackgroundFsync(t *testing.T) {
	tc := newTestCluster(t, 3, ClusterOptions{ReplicaLagTime: time.Hour, FetchMaxWait: time.Hour})
	p, err := tc.c.CreatePartition("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 1})
	require.NoError(t, err)
	require.NoError(t, tc.c.StopBroker(1))
	require.NoError(t, tc.c.StopBroker(2))
	require.Equal(t, []BrokerID{0}, p.State().ISR)
	_, err = p.Produce(context.Background(), records("a", 3), AcksLeader)
	require.NoError(t, err)
	waitFor(t, p, func() bool {
		hw, err := p.HighWatermark()
		return err == nil && hw == 3
	})
}
