package replica

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalog/strata/partition"
)

// Replica is one broker's copy of one partition: a partition.Partition and its
// role in the partition's State, leader or follower. As leader it takes produces,
// serves its followers' fetches, tracks how far each of them is (progress), keeps
// the ISR (asking the controller to shrink or grow it) and sets the high watermark.
// As follower it fetches from the leader, truncates where its log diverges, and
// appends what it fetched, keeping the leader's offsets and epochs.
//
// Lock order: roleMu, then mu, then the partition's locks. roleMu is held for
// reading across a produce's append and a follower's append or truncation, and for
// writing while the role changes, so that no append of an old role lands after the
// new role began.
type Replica struct {
	name   string
	broker BrokerID
	// brokerEpoch is its broker's incarnation: it grows at each start.
	brokerEpoch int64
	log         *partition.Partition
	env         *environment

	// following is set once the Cluster started the replica's fetch loop.
	following atomic.Bool

	roleMu sync.RWMutex
	mu     struct {
		sync.Mutex
		state    State
		leading  bool                   // state names this broker leader, and it took the role
		progress map[BrokerID]*progress // the followers, while leading
		changed  chan struct{}          // closed when the role, the state or the high watermark changes
		// stateChanged is closed when the role or the state changes (not the high
		// watermark): what fetch loops wait for.
		stateChanged chan struct{}
		closed       bool
	}
}

// progress is what a leader knows of one follower (Kafka's FollowerReplica state).
type progress struct {
	fetchOffset int64 // the follower's log end offset at its last fetch; -1: unknown
	durable     int64 // its durable offset at its last fetch; -1: unknown
	// lastCaughtUp is the last time the follower had fetched everything the leader
	// had written (Kafka's lastCaughtUpTimeMs): it leaves the ISR once that is older
	// than the replica lag time.
	lastCaughtUp time.Time
	lastFetch    time.Time
	lastFetchEnd int64 // the leader's log end offset at the last fetch
	// brokerEpoch is the follower's broker epoch at its last fetch: an older one
	// is a former incarnation's.
	brokerEpoch int64
	// joining is set while the leader asks the controller to add the follower to
	// the ISR: the high watermark counts it already.
	joining bool
}

// environment is what the replicas of a Cluster share.
type environment struct {
	transport  Transport
	controller Controller
	now        func() time.Time
	logger     *slog.Logger
	lagTime    time.Duration
	fetchBytes int
	// alterISR asks the controller for an ISR change and applies the result;
	// joining (or NoBroker) is the follower it adds, at broker epoch joiningEpoch.
	alterISR func(name string, leaderEpoch, partitionEpoch int32, isr []BrokerID, joining BrokerID, joiningEpoch int64) error
	// diskFailed is told that a replica's log failed a write: its broker's disk.
	diskFailed func(*Replica, error)
	// corrupt is told that a replica was found corrupt while serving (ReportCorrupt).
	corrupt func(name string, broker BrokerID, damage error)
	// committed records the high watermark a leader reached, and returns what the
	// partition committed so far (0 if unknown): a new leader elected cleanly
	// starts its high watermark there. reset starts a new history (an unclean
	// election).
	committed func(name string, hw int64, reset bool) int64
	// beforeTruncate is ClusterOptions.BeforeTruncate.
	beforeTruncate func(broker BrokerID, name string, end int64) error
}

func newReplica(name string, broker BrokerID, log *partition.Partition, env *environment) *Replica {
	r := &Replica{name: name, broker: broker, log: log, env: env}
	r.mu.changed = make(chan struct{})
	r.mu.stateChanged = make(chan struct{})
	r.mu.state.Leader = NoBroker
	return r
}

// Name returns the partition's name.
func (r *Replica) Name() string { return r.name }

// Broker returns the broker holding the replica.
func (r *Replica) Broker() BrokerID { return r.broker }

// Log returns the replica's partition. Readers of a leader see what the high
// watermark covers.
func (r *Replica) Log() *partition.Partition { return r.log }

// State returns the partition state the replica last applied.
func (r *Replica) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.state.Clone()
}

// IsLeader reports whether the replica leads its partition.
func (r *Replica) IsLeader() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.leading
}

// changedLocked returns the channel closed at the next change.
func (r *Replica) changedLocked() <-chan struct{} { return r.mu.changed }

// stateChangedLocked returns the channel closed at the next change of role or
// state.
func (r *Replica) stateChangedLocked() <-chan struct{} { return r.mu.stateChanged }

// notifyLocked wakes whoever waits for a change of the high watermark.
func (r *Replica) notifyLocked() {
	close(r.mu.changed)
	r.mu.changed = make(chan struct{})
}

// notifyStateLocked wakes whoever waits for any change.
func (r *Replica) notifyStateLocked() {
	r.notifyLocked()
	close(r.mu.stateChanged)
	r.mu.stateChanged = make(chan struct{})
}

// apply makes s the replica's state, taking or leaving the leadership. A state older
// than the one applied is ignored.
func (r *Replica) apply(s State) error {
	r.roleMu.Lock()
	defer r.roleMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return ErrClosed
	}
	prev := r.mu.state
	if prev.Replicas != nil && s.PartitionEpoch <= prev.PartitionEpoch {
		return nil
	}
	r.mu.state = s.Clone()
	defer r.notifyStateLocked()
	if s.Leader != r.broker {
		r.mu.leading, r.mu.progress = false, nil
		return nil
	}
	if !r.mu.leading || s.LeaderEpoch != prev.LeaderEpoch {
		if err := r.log.AssignEpoch(s.LeaderEpoch); err != nil {
			r.mu.leading, r.mu.progress = false, nil
			return err
		}
		r.mu.leading = true
		r.mu.progress = map[BrokerID]*progress{}
		switch {
		case r.env.committed == nil || !r.log.Replicated():
		case s.LeaderRecovering:
			// Elected uncleanly: what it holds is the partition's history now.
			r.env.committed(r.name, r.log.HighWatermark(), true)
		default:
			// Elected from the ISR or the ELR, it holds every committed record: its
			// readers see at once what earlier leaders let readers see (clamped to
			// what it holds: a power loss under a lazy sync policy may have taken
			// some), so that the high watermark does not go back at a failover.
			_, _ = r.log.SetHighWatermark(r.env.committed(r.name, 0, false))
		}
	}
	now := r.env.now()
	for _, b := range s.Replicas {
		if b != r.broker && r.mu.progress[b] == nil {
			// Kafka starts every follower caught up at the election, so that the ISR
			// does not shrink before a follower could fetch once.
			r.mu.progress[b] = &progress{fetchOffset: -1, durable: -1, lastCaughtUp: now, lastFetchEnd: -1}
		}
	}
	for b, p := range r.mu.progress {
		if !s.Hosts(b) {
			delete(r.mu.progress, b)
		} else if s.InSync(b) {
			p.joining = false
		}
	}
	r.updateHighWatermarkLocked()
	return nil
}

// close stops the replica's role; the caller closes the log.
func (r *Replica) close() {
	r.roleMu.Lock()
	defer r.roleMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.mu.closed {
		r.mu.closed = true
		r.mu.leading, r.mu.progress = false, nil
		r.notifyStateLocked()
	}
}

// waitChange returns once the replica's role, state or high watermark changed, or
// ctx ended.
func (r *Replica) waitChange(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
