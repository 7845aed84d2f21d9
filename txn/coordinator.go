package txn

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// Coordinator is the transaction coordinator: per transactional id its producer id
// and epoch and the state of its transaction, kept in a Log of Kafka's
// __transaction_state records; it ends transactions by writing their decision,
// then a marker to every partition, then their completion.
//
// It is a synchronous core: a call changes the state and returns; nothing happens
// between calls. Time is an input (Options.Now); transaction timeouts, retries of
// failed markers and the expiration of idle ids take effect in Tick.
//
// A Coordinator is safe for concurrent use. Requests on one transactional id do
// not wait for each other: one that arrives while another's write is in flight is
// refused with ErrConcurrentTransactions, as Kafka refuses it, and the producer
// retries.
type Coordinator struct {
	log        Log
	markers    MarkerWriter
	ids        ProducerIDAllocator
	offsetsFor func(string) TopicPartition
	now        func() time.Time
	logger     *slog.Logger
	opts       Options

	// mu guards the ids. It is never held while calling the Log, the MarkerWriter
	// or the allocator: an entry marked pending is owned by the call that marked it
	// until that call clears the mark.
	mu struct {
		sync.Mutex
		closed  bool
		entries map[string]*entry
	}
}

// entry is one transactional id's metadata and whether a call is changing it.
type entry struct {
	md Metadata
	// pending is set while a call writes a new state of the id (and, for an end,
	// its markers); other calls on the id get ErrConcurrentTransactions.
	pending bool
	// stored is false for an id created by InitProducerID whose first record is
	// not yet written: if that write fails the id is forgotten.
	stored bool
}

// ProducerIDAndEpoch is a producer's identity: what InitProducerID hands out and
// what every later request presents.
type ProducerIDAndEpoch struct {
	ProducerID    int64
	ProducerEpoch int16
}

// Open replays opts.Log into a new coordinator and then finishes every
// transaction the log left decided but not complete (PrepareCommit or
// PrepareAbort): it writes their markers again, to every partition, and their
// completion. A marker that fails leaves its transaction to the next Tick; only
// a record that does not decode, or a failed replay, fails Open. nil opts means
// the defaults.
func Open(ctx context.Context, opts *Options) (*Coordinator, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Coordinator{
		log: o.Log, markers: o.Markers, ids: o.ProducerIDs, offsetsFor: o.OffsetsPartition,
		now: o.Now, logger: o.Logger, opts: o,
	}
	c.mu.entries = make(map[string]*entry)
	position := 0
	err = o.Log.Replay(ctx, func(r Record) error {
		position++
		id, err := DecodeKey(r.Key)
		if err != nil {
			return errorf("strata/txn: record %d of the transaction state log: %w: %w", position-1, ErrCorrupt, err)
		}
		if r.Value == nil {
			delete(c.mu.entries, id)
			return nil
		}
		md, err := DecodeValue(id, r.Value)
		if err != nil {
			return errorf("strata/txn: record %d of the transaction state log: %w: %w", position-1, ErrCorrupt, err)
		}
		if md.State == PrepareEpochFence {
			md.State = Ongoing // Kafka never stores it; a fence not yet decided is not decided
		}
		c.mu.entries[id] = &entry{md: md, stored: true}
		return nil
	})
	if err != nil {
		return nil, errorf("strata/txn: replaying the transaction state log: %w", err)
	}
	c.completeDecided(ctx)
	return c, nil
}

// Close makes later calls fail with ErrCoordinatorClosed. It closes neither the
// Log nor the MarkerWriter, which the caller owns. It is idempotent.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	c.mu.closed = true
	c.mu.Unlock()
	return nil
}

// InitProducerID gives a producer its id and epoch (Kafka's InitProducerId).
//
// With an empty transactionalID it is an idempotent producer's: a new producer id
// at epoch 0, nothing stored. Otherwise: the first call for an id takes a new
// producer id; a later one bumps the epoch, which fences the previous instance
// (its requests now carry an older epoch); an id whose epochs are exhausted moves
// to a new producer id at epoch 0. If the previous instance left a transaction
// Ongoing, it is aborted first (its epoch fenced, its markers written) and the
// new epoch is returned once the abort is complete; if the abort cannot complete
// now (a marker failed), ErrConcurrentTransactions, and the producer retries.
// Kafka answers ErrConcurrentTransactions after every such fence, because its
// markers are written asynchronously; strata writes them in the call.
//
// expected, if not nil, is the producer's current id and epoch when it
// re-initializes after an error (KIP-360): an older instance is refused with
// ErrProducerFenced, and a retry of a call that succeeded gets the same epoch.
// timeout is the transaction timeout (DefaultTransactionTimeout if 0).
func (c *Coordinator) InitProducerID(ctx context.Context, transactionalID string, timeout time.Duration, expected *ProducerIDAndEpoch) (ProducerIDAndEpoch, error) {
	if transactionalID == "" {
		id, err := c.ids.NextProducerID(ctx)
		if err != nil {
			return ProducerIDAndEpoch{NoProducerID, NoProducerEpoch}, err
		}
		return ProducerIDAndEpoch{id, 0}, nil
	}
	if err := validateID(transactionalID); err != nil {
		return noProducer, err
	}
	if timeout == 0 {
		timeout = DefaultTransactionTimeout
	}
	if timeout < time.Millisecond || timeout > c.opts.MaxTransactionTimeout {
		return noProducer, errorf("strata/txn: %w: %v (at most %v)", ErrInvalidTransactionTimeout, timeout, c.opts.MaxTransactionTimeout)
	}
	for attempt := 0; ; attempt++ {
		result, fenced, err := c.initOnce(ctx, transactionalID, timeout, expected)
		if err != nil || !fenced {
			return result, err
		}
		// The previous instance's transaction was aborted: bump once more for the
		// new instance. A second fence means someone else got in between.
		if attempt > 0 {
			return noProducer, ErrConcurrentTransactions
		}
		expected = nil
	}
}

var noProducer = ProducerIDAndEpoch{NoProducerID, NoProducerEpoch}

// initOnce is one round of InitProducerID; fenced reports that it aborted an
// ongoing transaction instead of initializing, and the caller should go again.
func (c *Coordinator) initOnce(ctx context.Context, transactionalID string, timeout time.Duration, expected *ProducerIDAndEpoch) (ProducerIDAndEpoch, bool, error) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return noProducer, false, ErrCoordinatorClosed
	}
	e := c.mu.entries[transactionalID]
	if e == nil {
		c.mu.Unlock()
		id, err := c.ids.NextProducerID(ctx)
		if err != nil {
			return noProducer, false, err
		}
		c.mu.Lock()
		if e = c.mu.entries[transactionalID]; e == nil {
			e = &entry{md: Metadata{
				TransactionalID: transactionalID, ProducerID: id, ProducerEpoch: NoProducerEpoch,
				LastProducerEpoch: NoProducerEpoch, PreviousProducerID: NoProducerID, NextProducerID: NoProducerID,
				Timeout: timeout, State: Empty, LastUpdateTime: c.now(),
				ClientTransactionVersion: clientTransactionVersion,
			}}
			c.mu.entries[transactionalID] = e
		}
	}
	if e.pending {
		c.mu.Unlock()
		return noProducer, false, ErrConcurrentTransactions
	}
	md := e.md
	if expected != nil && !(md.ProducerEpoch == NoProducerEpoch || expected.ProducerID == md.ProducerID ||
		(expected.ProducerID == md.PreviousProducerID && epochExhausted(expected.ProducerEpoch))) {
		c.mu.Unlock()
		return noProducer, false, ErrProducerFenced
	}
	var next Metadata
	switch md.State {
	case PrepareCommit, PrepareAbort:
		c.mu.Unlock()
		return noProducer, false, ErrConcurrentTransactions
	case Ongoing:
		e.pending = true
		c.mu.Unlock()
		next, err := c.fence(ctx, md, c.now())
		if err == nil {
			_, err = c.end(ctx, e, next)
		} else {
			c.release(e)
		}
		if err != nil {
			return noProducer, false, err
		}
		return noProducer, true, nil
	default: // Empty, CompleteCommit, CompleteAbort
		now := c.now()
		next = md.clone()
		next.State, next.Timeout, next.Partitions, next.StartTime, next.LastUpdateTime = Empty, timeout, nil, time.Time{}, now
		next.NextProducerID = NoProducerID
		switch {
		case epochExhausted(md.ProducerEpoch) && (expected == nil || expected.ProducerEpoch == md.ProducerEpoch):
			e.pending = true // e is ours while the allocator runs
			c.mu.Unlock()
			id, err := c.ids.NextProducerID(ctx)
			if err != nil {
				c.release(e)
				return noProducer, false, err
			}
			c.mu.Lock()
			next.PreviousProducerID, next.ProducerID, next.ProducerEpoch = md.ProducerID, id, 0
			next.LastProducerEpoch = NoProducerEpoch
			if expected != nil {
				next.LastProducerEpoch = md.ProducerEpoch
			}
		case expected == nil:
			next.ProducerEpoch, next.LastProducerEpoch = md.ProducerEpoch+1, NoProducerEpoch
		case md.ProducerEpoch == NoProducerEpoch || expected.ProducerEpoch == md.ProducerEpoch:
			next.ProducerEpoch, next.LastProducerEpoch = md.ProducerEpoch+1, md.ProducerEpoch
		case expected.ProducerEpoch == md.LastProducerEpoch:
			// A retry of a call that succeeded: the same epoch again.
			next.ProducerEpoch, next.LastProducerEpoch = md.ProducerEpoch, md.LastProducerEpoch
		default:
			c.mu.Unlock()
			return noProducer, false, ErrProducerFenced
		}
		e.pending = true
		c.mu.Unlock()
		if err := c.store(ctx, e, next); err != nil {
			return noProducer, false, err
		}
		return ProducerIDAndEpoch{next.ProducerID, next.ProducerEpoch}, false, nil
	}
}

// fence returns md's transaction moved to PrepareAbort with its epoch bumped
// twice, as Kafka's transaction version 2 does (PrepareEpochFence's bump, then the
// abort's own): the producer's later requests, a retried EndTxn among them, find
// an epoch two above theirs and are refused with ErrProducerFenced, never taken
// for a retry of the abort. Neither epoch is handed out: the second is the
// markers'. If that would pass math.MaxInt16 the abort also takes a new producer
// id (NextProducerID), to which the id moves once the abort is complete.
func (c *Coordinator) fence(ctx context.Context, md Metadata, now time.Time) (Metadata, error) {
	next := md.clone()
	next.State = PrepareAbort
	next.LastUpdateTime = now
	next.NextProducerID = NoProducerID
	if md.ProducerEpoch > 1<<15-3 {
		id, err := c.ids.NextProducerID(ctx)
		if err != nil {
			return Metadata{}, err
		}
		next.ProducerEpoch, next.LastProducerEpoch, next.NextProducerID = 1<<15-1, NoProducerEpoch, id
		return next, nil
	}
	next.ProducerEpoch, next.LastProducerEpoch = md.ProducerEpoch+2, md.ProducerEpoch+1
	return next, nil
}

// epochExhausted reports whether no epoch may follow epoch: Kafka keeps
// math.MaxInt16 for the coordinator's fence.
func epochExhausted(epoch int16) bool { return epoch >= 1<<15-2 }

// store writes next as e's new state and makes it current. e is pending (owned
// by the caller), and is no longer pending when store returns. On failure e keeps
// its state (a new id is forgotten).
func (c *Coordinator) store(ctx context.Context, e *entry, next Metadata) error {
	return c.storeKeeping(ctx, e, next, false)
}

// storeKeeping is store, leaving e pending after a successful write if keep.
func (c *Coordinator) storeKeeping(ctx context.Context, e *entry, next Metadata, keep bool) error {
	return c.write(ctx, e, next, keep, c.log.Append)
}

// storeUnsynced is store through the log's AppendUnsynced if it has one: for a
// transaction's completion, whose loss in a crash only leaves the transaction
// decided, which the next Open finishes again (its markers are written again,
// which ends nothing more, and the completion).
func (c *Coordinator) storeUnsynced(ctx context.Context, e *entry, next Metadata) error {
	if l, ok := c.log.(UnsyncedLog); ok {
		return c.write(ctx, e, next, false, l.AppendUnsynced)
	}
	return c.store(ctx, e, next)
}

// write writes next with appendFn: see storeKeeping.
func (c *Coordinator) write(ctx context.Context, e *entry, next Metadata, keep bool, appendFn func(context.Context, []Record) error) error {
	err := appendFn(ctx, []Record{{Key: EncodeKey(next.TransactionalID), Value: EncodeValue(next)}})
	c.mu.Lock()
	defer c.mu.Unlock()
	e.pending = keep && err == nil
	if err != nil {
		if !e.stored && c.mu.entries[next.TransactionalID] == e {
			delete(c.mu.entries, next.TransactionalID)
		}
		return errorf("strata/txn: writing the state of %q: %w", next.TransactionalID, err)
	}
	e.md, e.stored = next, true
	return nil
}

// release clears e's pending mark, taken by a call that writes nothing after all.
func (c *Coordinator) release(e *entry) {
	c.mu.Lock()
	e.pending = false
	c.mu.Unlock()
}

// validateID checks a transactional id.
func validateID(id string) error {
	if id == "" || len(id) > MaxTransactionalIDBytes {
		return errorf("strata/txn: %w: %d bytes", ErrInvalidTransactionalID, len(id))
	}
	return nil
}

// Describe returns a copy of transactionalID's metadata (Kafka's
// DescribeTransactions), or ErrTransactionalIDNotFound.
func (c *Coordinator) Describe(transactionalID string) (Metadata, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return Metadata{}, ErrCoordinatorClosed
	}
	e := c.mu.entries[transactionalID]
	if e == nil || !e.stored {
		return Metadata{}, errorf("strata/txn: %w: %q", ErrTransactionalIDNotFound, transactionalID)
	}
	return e.md.clone(), nil
}

// List returns a copy of every transactional id's metadata, sorted by id (Kafka's
// ListTransactions).
func (c *Coordinator) List() []Metadata {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Metadata
	for _, id := range slices.Sorted(maps.Keys(c.mu.entries)) {
		if e := c.mu.entries[id]; e.stored {
			out = append(out, e.md.clone())
		}
	}
	return out
}
