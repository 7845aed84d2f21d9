package replica

import (
	"context"
	"errors"
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

// clusterOn is a Manual cluster over the given filesystems and controller, whose
// OpenLog fails for the replicas refuse names.
func clusterOn(t *testing.T, fsys map[BrokerID]vfs.FS, ctl Controller, refuse func(BrokerID, string) error) *Cluster {
	t.Helper()
	c, err := NewCluster(ClusterOptions{
		Manual: true, Controller: ctl,
		OpenLog: func(b BrokerID, name string, replicated bool) (*partition.Partition, error) {
			if refuse != nil {
				if err := refuse(b, name); err != nil {
					return nil, err
				}
			}
			return partition.Open(fmt.Sprintf("/broker-%d/%s", b, name), &partition.Options{FS: fsys[b], Replicated: replicated})
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// replicateAll runs fetch rounds of every replica of c until none makes progress.
func replicateAll(t *testing.T, c *Cluster) {
	t.Helper()
	sc := &scenario{t: t, c: c, parts: map[string]*Partition{}}
	for _, name := range c.Controller().Partitions() {
		sc.parts[name] = c.Partition(name)
	}
	sc.replicate()
}

// TestFailedStartBrokerLeavesTheBrokerOffline: StartBroker fails when a replica
// cannot be opened, or when the controller cannot record the broker online; either
// way the broker stays offline, with no replica open, and a later StartBroker brings
// it up whole.
func TestFailedStartBrokerLeavesTheBrokerOffline(t *testing.T) {
	errOpen := errors.New("cannot open")
	for _, failure := range []string{"open", "controller"} {
		t.Run(failure, func(t *testing.T) {
			fsys := map[BrokerID]vfs.FS{0: vfs.NewMem(), 1: vfs.NewMem()}
			storage := &failingStorage{}
			ctl, err := NewLocalController(storage)
			require.NoError(t, err)
			var refuse atomic.Bool
			c := clusterOn(t, fsys, ctl, func(b BrokerID, name string) error {
				if refuse.Load() && b == 1 && name == "t-1" {
					return errOpen
				}
				return nil
			})
			require.NoError(t, c.StartBroker(0))
			require.NoError(t, c.StartBroker(1))
			for _, name := range []string{"t-0", "t-1"} {
				_, err := c.CreatePartition(name, []BrokerID{0, 1}, Config{MinInsyncReplicas: 2})
				require.NoError(t, err)
			}
			// Both go, broker 1 last: starting it elects it from the ELR, a change
			// the controller saves.
			require.NoError(t, c.StopBroker(0))
			require.NoError(t, c.StopBroker(1))
			if failure == "open" {
				refuse.Store(true)
				require.ErrorIs(t, c.StartBroker(1), errOpen)
				refuse.Store(false)
			} else {
				storage.fail.Store(true)
				require.ErrorIs(t, c.StartBroker(1), errSave)
				storage.fail.Store(false)
			}
			require.False(t, c.Online(1))
			for _, name := range []string{"t-0", "t-1"} {
				require.Nil(t, c.Partition(name).Replica(1), name)
			}

			require.NoError(t, c.StartBroker(1))
			require.NoError(t, c.StartBroker(0))
			replicateAll(t, c)
			for _, name := range []string{"t-0", "t-1"} {
				require.NotNil(t, c.Partition(name).Replica(1), name)
				require.Equal(t, BrokerID(1), c.Partition(name).State().Leader, name)
				require.Equal(t, []BrokerID{0, 1}, c.Partition(name).State().ISR, name)
			}
		})
	}
}

var errSave = errors.New("cannot save")

// failingStorage is a MemoryStorage whose saves fail while fail is set.
type failingStorage struct {
	MemoryStorage
	fail atomic.Bool
}

func (s *failingStorage) Save(doc []byte) error {
	if s.fail.Load() {
		return errSave
	}
	return s.MemoryStorage.Save(doc)
}

// TestPartitionStateBeforeAnyChange: a Cluster over a controller that kept its
// state shows each partition's state from the start, not a zero State (whose leader
// is broker 0), even when starting a broker changes nothing.
func TestPartitionStateBeforeAnyChange(t *testing.T) {
	fsys := map[BrokerID]vfs.FS{0: vfs.NewMem(), 1: vfs.NewMem()}
	storage := &MemoryStorage{}
	ctl, err := NewLocalController(storage)
	require.NoError(t, err)
	c := clusterOn(t, fsys, ctl, nil)
	require.NoError(t, c.StartBroker(0))
	require.NoError(t, c.StartBroker(1))
	_, err = c.CreatePartition("t-0", []BrokerID{1, 0}, Config{})
	require.NoError(t, err)
	require.NoError(t, c.StopBroker(0))
	require.NoError(t, c.StopBroker(1)) // broker 1 leaves the ISR last: the ELR
	require.NoError(t, c.Close())

	ctl, err = NewLocalController(storage)
	require.NoError(t, err)
	want, err := ctl.State("t-0")
	require.NoError(t, err)
	require.Equal(t, []BrokerID{1}, want.ELR)
	c = clusterOn(t, fsys, ctl, nil)
	p := c.Partition("t-0")
	require.Equal(t, want, p.State())
	require.NoError(t, c.StartBroker(0)) // broker 0 may not lead: nothing changes
	require.Equal(t, want, p.State())
	_, err = p.Leader()
	require.ErrorIs(t, err, ErrNoLeader)
	_, err = p.Produce(context.Background(), records("a", 1), AcksLeader)
	require.ErrorIs(t, err, ErrNoLeader)
	require.True(t, p.UnderReplicated())
}

// TestUncleanShutdownLeavesTheELR is KIP-966's motivating case, under SyncNone (what
// Kafka does): the ISR shrinks to one replica while its followers stop cleanly (they
// become eligible leader replicas), then that replica loses its page cache in a power
// loss. It no longer holds every committed record, so it must leave the ELR when it
// comes back (KIP-966: a broker registering after an unclean shutdown leaves every
// ELR); electing it would have the clean replicas truncate acknowledged records away.
// Under SyncEveryAppend nothing acknowledged was unsynced, and it may lead.
func TestUncleanShutdownLeavesTheELR(t *testing.T) {
	for _, mode := range []partition.SyncMode{partition.SyncNone, partition.SyncEveryAppend} {
		t.Run(mode.String(), func(t *testing.T) {
			sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{Sync: partition.SyncPolicy{Mode: mode}})
			p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
			sc.produce(p, AcksAll, "a")
			sc.stop(2)
			sc.produce(p, AcksAll, "b") // acknowledged by brokers 0 and 1
			sc.stop(1)
			require.Equal(t, []BrokerID{0}, p.State().ISR)
			require.Equal(t, []BrokerID{1}, p.State().ELR)
			sc.crash(0)
			require.Equal(t, []BrokerID{1, 0}, p.State().ELR)
			sc.start(0)
			if mode == partition.SyncNone {
				require.Equal(t, []BrokerID{1}, p.State().ELR, "broker 0 lost unsynced records")
				_, err := p.Leader()
				require.ErrorIs(t, err, ErrNoLeader)
			} else {
				require.Equal(t, BrokerID(0), p.State().Leader)
			}
			sc.start(1)
			sc.start(2)
			sc.replicate()
			for id, r := range p.Replicas() {
				require.Equal(t, []string{"0:a", "1:b"}, sc.values(r), "broker %d", id)
			}
		})
	}
}

// TestELRElectionMeetingMinISRClearsTheELR: a partition created while its brokers
// are offline has them all in its ELR (nothing is committed); the first to start
// leads, alone in the ISR, which min.insync.replicas 1 lets the high watermark
// advance with. The other ELR members then miss what it commits: they must leave
// the ELR at that election, or a later clean election takes one of them and loses
// acknowledged records.
func TestELRElectionMeetingMinISRClearsTheELR(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	for _, b := range []BrokerID{0, 1, 2} {
		sc.stop(b)
	}
	p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 1})
	require.Equal(t, []BrokerID{0, 1, 2}, p.State().ELR)
	sc.start(1)
	require.Equal(t, BrokerID(1), p.State().Leader)
	require.Empty(t, p.State().ELR, "the high watermark advances with broker 1 alone")
	sc.produce(p, AcksAll, "a")
	sc.stop(1)
	sc.start(0)
	if _, err := p.Leader(); err == nil {
		require.NotEqual(t, BrokerID(0), p.State().Leader, "broker 0 lacks the acknowledged record")
	}
	sc.start(1)
	sc.start(2)
	sc.replicate()
	leader, err := p.Leader()
	require.NoError(t, err)
	require.Equal(t, []string{"0:a"}, sc.values(leader))
}

// requestRecorder is a Network that keeps the last fetch request of each follower.
type requestRecorder struct {
	*Network
	last map[BrokerID]FetchRequest
}

func (n *requestRecorder) Fetch(ctx context.Context, from, to BrokerID, req *FetchRequest) (*FetchResponse, error) {
	n.last[from] = *req
	return n.Network.Fetch(ctx, from, to, req)
}

// TestStaleFetchOfAFormerIncarnationCannotJoinTheISR is KIP-903's case: a follower
// that loses power (SyncNone: what it acknowledged was only written) comes back
// empty, and a fetch request its former incarnation sent, delayed on the way, reaches
// the leader. Its durable offset is no longer true: it must not make the follower
// in sync, or the next election takes a replica without the committed records.
func TestStaleFetchOfAFormerIncarnationCannotJoinTheISR(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, kafkaSync)
	recorder := &requestRecorder{Network: sc.net, last: map[BrokerID]FetchRequest{}}
	sc.c.env.transport = recorder
	p := sc.create("t-0", []BrokerID{0, 1}, Config{MinInsyncReplicas: 1})
	sc.produce(p, AcksAll, "a", "b")
	stale := recorder.last[1]
	require.Equal(t, int64(2), stale.DurableOffset)
	sc.crash(1)
	sc.net.Cut(0, 1, true)
	sc.start(1)
	require.Empty(t, sc.values(p.Replica(1)), "broker 1 lost what it had not fsynced")
	require.Equal(t, []BrokerID{0}, p.State().ISR)

	_, err := p.Replica(0).HandleFetch(context.Background(), &stale)
	require.ErrorIs(t, err, ErrStaleBrokerEpoch)
	require.Equal(t, []BrokerID{0}, p.State().ISR, "broker 1 holds nothing")

	sc.net.Cut(0, 1, false)
	sc.replicate()
	require.Equal(t, []BrokerID{0, 1}, p.State().ISR)
	require.Equal(t, []string{"0:a", "1:b"}, sc.values(p.Replica(1)))
}
