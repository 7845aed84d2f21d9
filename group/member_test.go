package group

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// ownership records, for members of one group, what each owns according to its
// callbacks, and fails the test at the instant a member takes a partition that
// another one owns.
type ownership struct {
	t      *testing.T
	mu     sync.Mutex
	owners map[TopicPartition]string
}

func newOwnership(t *testing.T) *ownership {
	return &ownership{t: t, owners: make(map[TopicPartition]string)}
}

// config returns a member configuration whose callbacks keep the record.
func (o *ownership) config(name string, cfg MemberConfig) MemberConfig {
	cfg.ClientID = name
	cfg.OnAssigned = func(tps []TopicPartition) {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, tp := range tps {
			if other, ok := o.owners[tp]; ok {
				o.t.Errorf("%s takes %v, owned by %s", name, tp, other)
			}
			o.owners[tp] = name
		}
	}
	release := func(tps []TopicPartition) {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, tp := range tps {
			if o.owners[tp] == name {
				delete(o.owners, tp)
			}
		}
	}
	cfg.OnRevoked, cfg.OnLost = release, release
	return cfg
}

// crashed forgets what a crashed member owned.
func (o *ownership) crashed(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for tp, owner := range o.owners {
		if owner == name {
			delete(o.owners, tp)
		}
	}
}

func (o *ownership) of(name string) []TopicPartition {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []TopicPartition
	for tp, owner := range o.owners {
		if owner == name {
			out = append(out, tp)
		}
	}
	slices.SortFunc(out, compareTopicPartitions)
	return out
}

// bubbleCoordinator is a coordinator on the bubble's clock, with its goroutine.
func bubbleCoordinator(t *testing.T) (*Coordinator, *testMetadata) {
	md := newTestMetadata(map[string]int{"orders": 4})
	c, err := NewCoordinator(&Options{Metadata: md})
	require.NoError(t, err)
	c.Start()
	t.Cleanup(func() { c.Close() })
	return c, md
}

// wait lets d of the bubble's fake time pass.
func wait(d time.Duration) { <-time.After(d) }

// Join blocks until the rebalance completes: a second member's Join waits for the
// first member to rejoin, which it does once its Heartbeat says so. Cooperative
// members settle in two rebalances: the first keeps what does not move and only
// revokes, the second (which members join when their heartbeat tells them, here in
// Run) assigns what was revoked. m1 consumes partitions 0 and 1 throughout.
func TestMemberJoinBlocksUntilRebalanceCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		owned := newOwnership(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var m1Revoked []TopicPartition
		cfg1 := owned.config("m1", MemberConfig{Group: "g", Topics: []string{"orders"}})
		release := cfg1.OnRevoked
		cfg1.OnRevoked = func(tps []TopicPartition) { m1Revoked = append(m1Revoked, tps...); release(tps) }
		m1, err := c.NewMember(cfg1)
		require.NoError(t, err)
		a1, err := m1.Join(ctx)
		require.NoError(t, err)
		require.Equal(t, tps("orders", 0, 1, 2, 3), a1.Partitions)
		require.Equal(t, Cooperative, m1.RebalanceProtocol())

		m2, err := c.NewMember(owned.config("m2", MemberConfig{Group: "g", Topics: []string{"orders"}}))
		require.NoError(t, err)
		done := make(chan error, 3)
		go func() {
			_, err := m2.Join(ctx)
			done <- err
		}()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("m2's Join returned before m1 rejoined")
		default:
		}
		require.ErrorIs(t, m1.Heartbeat(), ErrRebalanceInProgress)
		go func() { done <- m1.Run(ctx, time.Second) }()
		require.NoError(t, <-done, "m2's Join returns once m1 rejoined")
		go func() { done <- m2.Run(ctx, time.Second) }()
		wait(5 * time.Second)
		require.Equal(t, tps("orders", 0, 1), owned.of("m1"))
		require.Equal(t, tps("orders", 2, 3), owned.of("m2"))
		require.Equal(t, tps("orders", 2, 3), m1Revoked, "m1 revoked only what moved")
		require.Equal(t, tps("orders", 2, 3), m2.Assignment().Partitions)
		require.Equal(t, int32(3), m2.Assignment().Generation, "revoked in generation 2, assigned in 3")
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

// Members kept in the group by Run share the partitions; one that crashes (stops
// heartbeating, without leaving) is removed by the coordinator's goroutine when its
// session times out, and the survivor takes its partitions over.
func TestMemberCrashIsDetectedBySessionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		owned := newOwnership(t)
		cfg := MemberConfig{Group: "g", Topics: []string{"orders"}, SessionTimeout: 10 * time.Second}
		run := func(name string) (*Member, context.CancelFunc, chan error) {
			m, err := c.NewMember(owned.config(name, cfg))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx, time.Second) }()
			return m, cancel, done
		}
		survivor, stopSurvivor, survivorDone := run("survivor")
		victim, stopVictim, victimDone := run("victim")
		wait(5 * time.Second)
		require.Len(t, owned.of("victim"), 2)
		require.Len(t, owned.of("survivor"), 2)

		stopVictim() // the victim crashes: no more heartbeats, no leave
		require.ErrorIs(t, <-victimDone, context.Canceled)
		owned.crashed("victim")
		crash := time.Now()
		for len(owned.of("survivor")) < 4 {
			wait(100 * time.Millisecond)
			require.Less(t, time.Since(crash), time.Minute, "the survivor never took over")
		}
		require.GreaterOrEqual(t, time.Since(crash), 9*time.Second, "not before the victim's session timed out")
		d, err := c.Describe("g")
		require.NoError(t, err)
		require.Len(t, d.Members, 1)
		require.ErrorIs(t, victim.Heartbeat(), ErrUnknownMemberID)

		stopSurvivor()
		require.ErrorIs(t, <-survivorDone, context.Canceled)
		require.NoError(t, survivor.Leave(context.Background()))
		require.Empty(t, owned.of("survivor"))
	})
}

// An eager member revokes everything before every rejoin, and can commit in its
// OnRevoked callback: the commit still belongs to its generation.
func TestEagerMemberCommitsOnRevoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		ctx := context.Background()
		var m1 *Member
		var revoked [][]TopicPartition
		cfg := MemberConfig{Group: "g", Topics: []string{"orders"}, Assignors: []Assignor{RangeAssignor{}},
			OnRevoked: func(tps []TopicPartition) {
				revoked = append(revoked, tps)
				offsets := make(map[TopicPartition]OffsetAndMetadata)
				for _, tp := range tps {
					offsets[tp] = OffsetAndMetadata{Offset: 100 + int64(tp.Partition)}
				}
				if err := m1.Commit(ctx, offsets); err != nil {
					t.Errorf("commit on revoke: %v", err)
				}
			}}
		var err error
		m1, err = c.NewMember(cfg)
		require.NoError(t, err)
		require.Equal(t, Eager, m1.RebalanceProtocol())
		_, err = m1.Join(ctx)
		require.NoError(t, err)
		m2, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}, Assignors: []Assignor{RangeAssignor{}}})
		require.NoError(t, err)
		done := make(chan error)
		go func() { _, err := m2.Join(ctx); done <- err }()
		synctest.Wait()
		require.ErrorIs(t, m1.Heartbeat(), ErrRebalanceInProgress)
		a1, err := m1.Join(ctx)
		require.NoError(t, err)
		require.NoError(t, <-done)
		require.Equal(t, [][]TopicPartition{tps("orders", 0, 1, 2, 3)}, revoked)
		require.Equal(t, tps("orders", 0, 1), a1.Partitions)
		require.Equal(t, tps("orders", 2, 3), m2.Assignment().Partitions)
		offsets, err := m2.Fetch(ctx, m2.Assignment().Partitions)
		require.NoError(t, err)
		require.Equal(t, int64(102), offsets[tp("orders", 2)].Offset)
		require.Equal(t, int64(103), offsets[tp("orders", 3)].Offset)
	})
}

// A partition count change rebalances the group; the new partitions are assigned.
func TestMemberSeesNewPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, md := bubbleCoordinator(t)
		ctx, cancel := context.WithCancel(context.Background())
		m, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders", "later"}})
		require.NoError(t, err)
		runDone := make(chan error, 1)
		go func() { runDone <- m.Run(ctx, time.Second) }()
		wait(2 * time.Second)
		require.Len(t, m.Assignment().Partitions, 4)
		md.setPartitions("orders", 6)
		md.setPartitions("later", 1) // a subscribed topic appears
		c.NotifyMetadataChanged()
		wait(2 * time.Second)
		require.Len(t, m.Assignment().Partitions, 7)
		require.Contains(t, m.Assignment().Partitions, tp("later", 0))
		// A subscription change, too.
		require.NoError(t, m.Subscribe([]string{"later"}))
		wait(2 * time.Second)
		require.Equal(t, tps("later", 0), m.Assignment().Partitions)
		cancel()
		require.ErrorIs(t, <-runDone, context.Canceled)
	})
}

// A Join whose context ends returns ctx.Err(); the member can join later. Leave
// makes the group rebalance at once.
func TestMemberJoinCancelledAndLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := bubbleCoordinator(t)
		ctx := context.Background()
		m1, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
		require.NoError(t, err)
		_, err = m1.Join(ctx)
		require.NoError(t, err)
		m2, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
		require.NoError(t, err)
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err = m2.Join(short) // m1 does not rejoin
		require.ErrorIs(t, err, context.DeadlineExceeded)

		require.NoError(t, m1.Leave(ctx))
		require.Empty(t, m1.Assignment().Partitions)
		a2, err := m2.Join(ctx)
		require.NoError(t, err)
		require.Len(t, a2.Partitions, 4)
		require.ErrorIs(t, m1.Commit(ctx, map[TopicPartition]OffsetAndMetadata{tp("orders", 0): {}}), ErrUnknownMemberID)
	})
}

// Close stops the coordinator's goroutine and fails members waiting in Join; a
// Member's Run returns ErrCoordinatorClosed. (synctest also checks that no
// goroutine is left behind.)
func TestCloseStopsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		md := newTestMetadata(map[string]int{"orders": 4})
		c, err := NewCoordinator(&Options{Metadata: md})
		require.NoError(t, err)
		c.Start()
		c.Start()
		ctx := context.Background()
		m1, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
		require.NoError(t, err)
		_, err = m1.Join(ctx)
		require.NoError(t, err)
		m2, err := c.NewMember(MemberConfig{Group: "g", Topics: []string{"orders"}})
		require.NoError(t, err)
		joinDone := make(chan error)
		go func() { _, err := m2.Join(ctx); joinDone <- err }()
		synctest.Wait()
		require.NoError(t, c.Close())
		require.ErrorIs(t, <-joinDone, ErrCoordinatorClosed)
		require.ErrorIs(t, m1.Run(ctx, time.Second), ErrCoordinatorClosed)
		c.Start() // nothing after Close
	})
}

// NewMember refuses bad configurations.
func TestNewMemberValidation(t *testing.T) {
	c := newTestCoordinator(t, nil)
	for _, cfg := range []MemberConfig{
		{Group: ""},
		{Group: "g", Topics: []string{""}},
		{Group: "g", Assignors: []Assignor{RangeAssignor{}, RangeAssignor{}}},
		{Group: "g", Assignors: []Assignor{nil}},
	} {
		_, err := c.NewMember(cfg)
		require.Error(t, err)
		require.True(t, errors.Is(err, ErrInvalidArgument))
	}
}
