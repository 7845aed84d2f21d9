package log_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A fetch can read some partitions before another one fails. Poll then returns the
// records alone and the error at the next call, so Consume handles them before it
// returns the error, and nothing is committed past a record that was not handled.
// (Found in review: Poll returned both, Consume dropped the records, and Close
// committed past them.)
func TestGroupConsumeRecordsReadBeforeAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		produce(t, s, "t", 0, 5)
		ctx := context.Background()
		// Partition 0 has a committed offset, partition 1 none: with ResetNone the
		// fetch fails on partition 1 (any partition error does the same: a failed
		// or corrupt partition, a deleted topic).
		require.NoError(t, s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("t", 0): {Offset: 0}}))
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, Reset: log.ResetNone})
		var handled []int64
		for range 3 {
			err := g.Consume(ctx, func(r *log.Record) error {
				handled = append(handled, r.Offset)
				return nil
			})
			require.ErrorIs(t, err, log.ErrOffsetOutOfRange)
		}
		require.NoError(t, g.Close()) // commits what was processed
		committed, err := s.CommittedOffsets(ctx, "g", tp("t", 0))
		require.NoError(t, err)
		require.Equal(t, []int64{0, 1, 2, 3, 4}, handled)
		require.Equal(t, int64(5), committed[tp("t", 0)].Offset)
	})
}

// A Poll blocked with nothing to read returns as soon as the member is fenced for
// good (ErrFencedInstanceID: another consumer took its instance id). (Found in
// review: it waited until its context ended.)
func TestGroupBlockedPollSeesFencing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second}
		owner := newGroupConsumer(t, s, opts)
		defer owner.Close()
		time.Sleep(5 * time.Second) // fake time: owner joins and gets the only partition
		static := opts
		static.InstanceID = "x"
		fenced := newGroupConsumer(t, s, static)
		defer fenced.Close()
		time.Sleep(10 * time.Second) // fake time: the group settles; fenced owns nothing
		require.Len(t, owner.Assignment(), 1)
		require.Empty(t, fenced.Assignment())

		ctx, cancel := context.WithTimeout(context.Background(), time.Hour) // fake time
		defer cancel()
		polled := make(chan error, 1)
		go func() {
			_, err := fenced.Poll(ctx)
			polled <- err
		}()
		synctest.Wait() // Poll is blocked

		replacement := newGroupConsumer(t, s, static) // same instance id: fences the first
		defer replacement.Close()
		err := <-polled
		// The fencing did happen: a Poll started now reports it at once.
		_, again := fenced.Poll(context.Background())
		require.ErrorIs(t, again, group.ErrFencedInstanceID)
		require.ErrorIs(t, err, group.ErrFencedInstanceID, "the blocked Poll should report the fencing, not wait an hour: %v", err)
	})
}

// failingAssignor is the cooperative-sticky assignor, failing while fail is set.
type failingAssignor struct {
	group.CooperativeStickyAssignor
	fail *atomic.Bool
}

func (a failingAssignor) Assign(members []group.MemberSubscription, partitions map[string]int) (map[string][]group.TopicPartition, error) {
	if a.fail != nil && a.fail.Load() {
		return nil, errors.New("assignor failed")
	}
	return a.CooperativeStickyAssignor.Assign(members, partitions)
}

// When the heartbeat goroutine stops for good (here: the leader's assignor fails,
// so Join and Run return an error), the consumer gives up its partitions at once
// and Poll returns the error: it never consumes partitions the group gave to
// another member. (Found in review: it kept consuming them.)
func TestGroupStoppedMemberStopsConsuming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		var fail atomic.Bool
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second,
			RebalanceTimeout: 20 * time.Second, DisableAutoCommit: true}
		leaderOpts := opts
		leaderOpts.Assignors = []log.Assignor{failingAssignor{fail: &fail}}
		leader := newGroupConsumer(t, s, leaderOpts)
		defer leader.Close()
		time.Sleep(5 * time.Second) // fake time: the leader owns both partitions
		require.Len(t, leader.Assignment(), 2)

		fail.Store(true) // the next assignment the leader computes fails: its Run returns
		otherOpts := opts
		otherOpts.Assignors = []log.Assignor{failingAssignor{}}
		other := newGroupConsumer(t, s, otherOpts)
		defer other.Close()
		time.Sleep(2 * time.Minute) // fake time: the leader is removed, other gets everything
		require.Len(t, other.Assignment(), 2, "the survivor owns both partitions")
		d, err := s.DescribeGroup("g")
		require.NoError(t, err)
		require.Len(t, d.Members, 1, "the stopped leader was removed from the group")

		produce(t, s, "t", 0, 3)
		var records []*log.Record
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		records, err = leader.Poll(ctx)
		require.Error(t, err, "a member out of the group for good should not keep consuming")
		require.Empty(t, records, fmt.Sprintf("the stopped member still consumes %v, owned by another member", leader.Assignment()))
	})
}

// The same with a subscribed topic deleted under the consumer: the records of the
// other topic are handled, then the error comes, unless the rebalance the deletion
// starts (at once, in process) takes the deleted partition away first; either way
// nothing of the other topic is lost or handled twice.
func TestGroupConsumeRecordsWhenATopicIsDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "a", log.TopicConfig{})
		createTopic(t, s, "b", log.TopicConfig{})
		ctx := context.Background()
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"a", "b"}})
		time.Sleep(5 * time.Second) // fake time: the member owns a-0 and b-0
		require.Len(t, g.Assignment(), 2)
		produce(t, s, "a", 0, 5)
		require.NoError(t, s.DeleteTopic(ctx, "b"))
		var handled []int64
		for range 3 {
			cctx, cancel := context.WithTimeout(ctx, time.Second) // fake time
			err := g.Consume(cctx, func(r *log.Record) error {
				handled = append(handled, r.Offset)
				return nil
			})
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
			}
		}
		require.NoError(t, g.Close())
		committed, err := s.CommittedOffsets(ctx, "g", tp("a", 0))
		require.NoError(t, err)
		require.Equal(t, []int64{0, 1, 2, 3, 4}, handled)
		require.Equal(t, int64(5), committed[tp("a", 0)].Offset)
	})
}

// A Store.Close racing NewGroupConsumer closes the new consumer cleanly or makes
// NewGroupConsumer fail; no goroutine outlives Close. (Found in review: the consumer
// was registered before its goroutines started, and Close could call a nil cancel.)
// Close's start is swept across NewGroupConsumer's.
func TestStoreCloseRacesNewGroupConsumer(t *testing.T) {
	for i := range 1000 {
		s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
		require.NoError(t, err)
		require.NoError(t, s.CreateTopic(context.Background(), "t", log.TopicConfig{}))
		// Start the coordinator first, so that NewGroupConsumer is quick.
		require.NoError(t, s.CommitGroupOffsets(context.Background(), "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("t", 0): {Offset: 0}}))
		start := make(chan struct{})
		made := make(chan *log.GroupConsumer, 1)
		go func() {
			<-start
			g, _ := s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}})
			made <- g
		}()
		close(start)
		for range i % 500 { // sweep Close's start across NewGroupConsumer's
			runtime.Gosched()
		}
		require.NoError(t, s.Close(), "iteration %d", i)
		if g := <-made; g != nil {
			g.Close()
		}
	}
}
