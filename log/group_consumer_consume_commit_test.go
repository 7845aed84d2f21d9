package log_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// gatedAssignor is the cooperative-sticky assignor whose Assign waits for the
// gate to open while armed: the group stays in CompletingRebalance meanwhile.
type gatedAssignor struct {
	group.CooperativeStickyAssignor
	*gate
}

type gate struct {
	armed    atomic.Bool
	opened   chan struct{}
	openOnce sync.Once
}

// open disarms the gate and lets a waiting Assign go on; it may be called more
// than once.
func (g *gate) open() {
	g.openOnce.Do(func() { g.armed.Store(false); close(g.opened) })
}

func (a gatedAssignor) Assign(members []group.MemberSubscription, partitions map[string]int) (map[string][]group.TopicPartition, error) {
	if a.armed.Load() {
		<-a.opened
	}
	return a.CooperativeStickyAssignor.Assign(members, partitions)
}

// gatedGroup returns a store with topic "t" (2 partitions of 5 records each) and
// the options of a group whose members assign with a gatedAssignor on gate.
func gatedGroup(t *testing.T) (*log.Store, log.GroupConsumerOptions, *gate) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	produce(t, s, "t", 0, 5)
	produce(t, s, "t", 1, 5)
	g := &gate{opened: make(chan struct{})}
	opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, DisableAutoCommit: true,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second,
		Assignors: []log.Assignor{gatedAssignor{gate: g}}}
	return s, opts, g
}

// With DisableAutoCommit, Consume's commit after a batch may meet a rebalance of
// its group (another member joins); the refused commit is not Consume's error to
// return: it keeps consuming, and commits what it handled once the group settled.
func TestGroupConsumeKeepsGoingThroughARebalance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, opts, gate := gatedGroup(t)
		leader := newGroupConsumer(t, s, opts) // leads: it joined first
		defer leader.Close()
		synctest.Wait()
		worker := newGroupConsumer(t, s, opts)
		defer worker.Close()
		synctest.Wait()
		require.Len(t, worker.Assignment(), 1)
		owned := worker.Assignment()[0]

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		handled, release, done := consumeHoldingTheFirst(ctx, worker)
		gate.armed.Store(true) // the leader's next assignment waits at the gate
		third := newGroupConsumer(t, s, opts)
		defer third.Close()
		defer gate.open() // before the Closes, if the test fails
		synctest.Wait()   // the next generation formed, its assignment not yet made
		close(release)    // the batch is handled; Consume commits while the group rebalances
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Consume returned %v while its group rebalanced", err)
		default:
		}
		require.Equal(t, int32(5), handled.Load())

		gate.open()
		synctest.Wait()
		committed, err := worker.Committed(ctx, owned)
		require.NoError(t, err)
		require.Equal(t, int64(5), committed[owned].Offset, "what Consume handled is committed once the group settled")
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

// A commit of Consume's refused by a rebalance that also takes one of the
// member's partitions away is made by the revocation for that partition: its new
// owner starts after what Consume handled, and nothing is handled twice.
func TestGroupConsumeCommitRefusedByARebalanceIsMadeByTheRevocation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, opts, gate := gatedGroup(t)
		first := newGroupConsumer(t, s, opts)
		synctest.Wait()
		worker := newGroupConsumer(t, s, opts)
		defer worker.Close()
		synctest.Wait()
		require.NoError(t, first.Close()) // worker owns both partitions, and leads
		synctest.Wait()
		require.Len(t, worker.Assignment(), 2)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		handling, release := make(chan struct{}), make(chan struct{})
		var (
			mu      sync.Mutex
			handled = map[log.TopicPartition]int64{}
			calls   int
		)
		done := make(chan error, 1)
		go func() {
			done <- worker.Consume(ctx, func(r *log.Record) error {
				mu.Lock()
				calls++
				handled[tp(r.Topic, r.Partition)]++
				n := calls
				mu.Unlock()
				if n == 1 {
					handling <- struct{}{}
					<-release
				}
				return nil
			})
		}()
		<-handling
		gate.armed.Store(true) // worker's next assignment, as leader, waits at the gate
		joiner := newGroupConsumer(t, s, opts)
		defer joiner.Close()
		defer gate.open()
		synctest.Wait()
		close(release) // the batch is handled; its commit is refused: the group completes a rebalance
		synctest.Wait()
		gate.open() // one partition moves to joiner
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Consume returned %v", err)
		default:
		}
		require.Len(t, joiner.Assignment(), 1)
		moved := joiner.Assignment()[0]

		mu.Lock()
		defer mu.Unlock()
		tps := []log.TopicPartition{tp("t", 0), tp("t", 1)}
		committed, err := worker.Committed(ctx, tps...)
		require.NoError(t, err)
		for _, p := range tps {
			if handled[p] > 0 {
				require.Equal(t, handled[p], committed[p].Offset, "%s: committed what Consume handled", p)
			}
		}
		pos, err := joiner.Position(moved)
		require.NoError(t, err)
		require.Equal(t, handled[moved], pos, "the new owner starts after what the worker handled")
	})
}

// Consume waiting for its member's join to commit again waits for the group, not
// for the application: the time does not count against MaxPollInterval, which
// would put the member out for the group's slowness. Here the join that Consume
// waits for runs an OnAssigned that takes longer than MaxPollInterval.
func TestGroupConsumeWaitingForTheGroupIsNotAwayFromPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, opts, gate := gatedGroup(t)
		opts.SessionTimeout, opts.MaxPollInterval = 20*time.Minute, 5*time.Minute
		leader := newGroupConsumer(t, s, opts)
		synctest.Wait()
		var (
			lost  atomic.Int32
			ready atomic.Bool
		)
		workerOpts := opts
		workerOpts.OnLost = func([]log.TopicPartition) { lost.Add(1) }
		workerOpts.OnAssigned = func([]log.TopicPartition) {
			if ready.Load() {
				time.Sleep(6 * time.Minute) // the application's slow set-up of a new partition
			}
		}
		worker := newGroupConsumer(t, s, workerOpts)
		defer worker.Close()
		synctest.Wait()
		require.Len(t, worker.Assignment(), 1)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, release, done := consumeHoldingTheFirst(ctx, worker)
		ready.Store(true)
		gate.armed.Store(true) // the worker leads the next generation: its assignment waits
		defer gate.open()
		require.NoError(t, leader.Close())
		synctest.Wait()
		close(release) // Consume's commit is refused: it waits for the worker's join
		synctest.Wait()
		gate.open() // the join goes on, into the 6 minutes of OnAssigned
		time.Sleep(7 * time.Minute)
		synctest.Wait()
		require.Zero(t, lost.Load(), "the worker was put out of the group while Consume waited for the group")
		require.Len(t, worker.Assignment(), 2)
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

// consumeHoldingTheFirst runs Consume on g in the background until ctx ends; its
// handler counts the records in handled and holds the first until release is
// closed. It returns once the first record is being handled; done receives
// Consume's error.
func consumeHoldingTheFirst(ctx context.Context, g *log.GroupConsumer) (handled *atomic.Int32, release chan struct{}, done <-chan error) {
	handled, release = new(atomic.Int32), make(chan struct{})
	handling, errs := make(chan struct{}), make(chan error, 1)
	go func() {
		errs <- g.Consume(ctx, func(r *log.Record) error {
			if handled.Add(1) == 1 {
				close(handling)
				<-release
			}
			return nil
		})
	}()
	<-handling
	return handled, release, errs
}
