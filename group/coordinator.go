package group

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Coordinator is the group coordinator: the state machine of every consumer group
// (membership, generations, rebalances, assignments handed from the leader to the
// members) and the committed offsets, as in Kafka's classic group protocol.
//
// It is a synchronous core: a call changes the state and returns; nothing happens
// between calls on its own. Time is an input: the clock (Options.Now) is read by the
// calls, and timeouts take effect in Tick. Start adds the thin goroutine layer that
// calls Tick at every deadline and writes group records and expires offsets in the
// background; NewMember adds the blocking API for in-process consumers.
//
// A JoinGroup or SyncGroup that must wait for the rest of the group takes a callback
// instead of blocking: respond is called exactly once, possibly before the method
// returns, by the call that completes the rebalance (another member's JoinGroup or
// SyncGroup, a LeaveGroup, a Tick, Close). It is never called with the coordinator's
// lock held, and must not block for long.
//
// A Coordinator is safe for concurrent use.
type Coordinator struct {
	store    OffsetStore
	metadata Metadata
	now      func() time.Time
	logger   *slog.Logger
	opts     Options

	// idPrefix makes the member ids of this coordinator differ from those of any
	// earlier one, so that a member id from before a restart is unknown.
	idPrefix string
	// metadataEpoch counts NotifyMetadataChanged calls (see leaderAssign).
	metadataEpoch atomic.Uint64
	// metadataChanged is closed and replaced by NotifyMetadataChanged.
	metadataChanged struct {
		sync.Mutex
		ch chan struct{}
	}

	// mu guards the groups. It is never held while calling a response callback, the
	// offset store or Metadata. Lock order: a group's lock (lockGroup), then mu.
	mu struct {
		sync.Mutex
		closed     bool
		groups     map[string]*groupMetadata
		locks      map[string]*groupLock
		nextMember uint64
	}

	// wake tells the background goroutine that deadlines may have changed.
	wake       chan struct{}
	background struct {
		once   sync.Once
		cancel context.CancelFunc
		done   chan struct{}
	}
	closeOnce sync.Once
	closeErr  error
}

// NewCoordinator returns a coordinator over the offsets and groups already in
// opts.Offsets; nil opts means the defaults (offsets in memory). Restored groups
// start Empty, with the generation they had: their members, if any, join again.
// The coordinator runs no goroutine until Start.
func NewCoordinator(opts *Options) (*Coordinator, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Coordinator{
		store:    o.Offsets,
		metadata: o.Metadata,
		now:      o.Now,
		logger:   o.Logger,
		opts:     o,
		idPrefix: fmt.Sprintf("%08x", rand.Uint32()),
		wake:     make(chan struct{}, 1),
	}
	c.mu.groups = make(map[string]*groupMetadata)
	c.mu.locks = make(map[string]*groupLock)
	now := c.now()
	for _, id := range c.store.Groups() {
		g := newGroupMetadata(id, now)
		if rec, ok := c.store.Group(id); ok {
			g.protocolType = rec.ProtocolType
			g.generation = rec.Generation
			if len(rec.Members) == 0 && !rec.StateTime.IsZero() {
				g.stateTime = rec.StateTime // empty since then
			} else {
				g.dirty = true // its members are gone: record it empty since now
			}
		}
		c.mu.groups[id] = g
	}
	return c, nil
}

// Close fails every waiting JoinGroup and SyncGroup with ErrCoordinatorClosed,
// stops the background goroutine and waits for it, and writes the records of groups
// that changed since the last Flush. Later calls return ErrCoordinatorClosed. Close
// does not close the offset store. It is idempotent.
func (c *Coordinator) Close() error {
	c.closeOnce.Do(func() {
		var out outbox
		c.mu.Lock()
		c.mu.closed = true
		for _, g := range c.mu.groups {
			for _, m := range g.members {
				if respond := m.awaitingJoin; respond != nil {
					m.awaitingJoin = nil
					out.add(func() { respond(JoinResponse{}, ErrCoordinatorClosed) })
				}
				if respond := m.awaitingSync; respond != nil {
					m.awaitingSync = nil
					out.add(func() { respond(SyncResponse{}, ErrCoordinatorClosed) })
				}
			}
		}
		c.mu.Unlock()
		out.deliver()
		c.stopBackground()
		c.closeErr = c.flush(context.Background())
	})
	return c.closeErr
}

// outbox collects the response callbacks a locked section decided to call, so that
// they run after the lock is released.
type outbox struct{ calls []func() }

func (o *outbox) add(f func()) { o.calls = append(o.calls, f) }

func (o *outbox) deliver() {
	for _, f := range o.calls {
		f()
	}
}

// finish delivers out and tells the background goroutine that deadlines may have
// moved. Every state-changing method ends with it, after unlocking.
func (c *Coordinator) finish(out *outbox) {
	out.deliver()
	c.wakeBackground()
}

// wakeBackground tells the background goroutine, if any, to look at the groups again.
func (c *Coordinator) wakeBackground() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// newMemberIDLocked returns a member id no other member of this coordinator has had:
// the client id (the instance id of a static member), this coordinator's random
// prefix and a counter, so that ids sort in the order members were created.
func (c *Coordinator) newMemberIDLocked(clientID, instanceID string) (string, uint64) {
	c.mu.nextMember++
	name := clientID
	if instanceID != "" {
		name = instanceID
	}
	return fmt.Sprintf("%s-%s-%08d", name, c.idPrefix, c.mu.nextMember), c.mu.nextMember
}

// groupLock serializes the offset store writes (and reads) of one group; it exists
// while someone holds or waits for it.
type groupLock struct {
	sem  chan struct{}
	refs int
}

// lockGroup takes the group's lock, waiting until ctx ends. Holding it across
// validation and store write makes a commit atomic with respect to rebalances'
// effects on later commits: a commit accepted for a generation is in the log before
// any commit of a later generation is even validated.
func (c *Coordinator) lockGroup(ctx context.Context, group string) (unlock func(), err error) {
	c.mu.Lock()
	l := c.mu.locks[group]
	if l == nil {
		l = &groupLock{sem: make(chan struct{}, 1)}
		c.mu.locks[group] = l
	}
	l.refs++
	c.mu.Unlock()
	release := func() {
		c.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(c.mu.locks, group)
		}
		c.mu.Unlock()
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// validateName checks a group id, member id, instance id, client id or topic.
func validateName(what, name string, allowEmpty bool) error {
	if name == "" && !allowEmpty {
		return fmt.Errorf("%w: empty %s", ErrInvalidArgument, what)
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("%w: %s of %d bytes (at most %d)", ErrInvalidArgument, what, len(name), MaxNameBytes)
	}
	return nil
}

// validateGroupID checks a group id.
func validateGroupID(group string) error {
	if group == "" || len(group) > MaxNameBytes {
		return fmt.Errorf("%w: %q", ErrInvalidGroupID, group)
	}
	return nil
}
