package log

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalog/strata/internal/topicpartition"
	"github.com/stratalog/strata/txn"
)

// transactional is the transaction state of a transactional Producer: its
// transactional id, the coordinator, and what the transaction in progress holds.
type transactional struct {
	s           *Store
	id          string
	timeout     time.Duration
	coordinator *txn.Coordinator
	identity    *idempotence // the producer's id and epoch, which EndTxn bumps

	// addMu serializes the producer's requests to the coordinator, which refuses
	// a request on an id while another is in flight.
	addMu sync.Mutex
	// generation counts the transactions begun: a batcher tells wanted about its
	// partition once per transaction (want).
	generation atomic.Uint64
	mu         struct {
		sync.Mutex
		inTxn bool
		// added are the partitions the coordinator knows are in the transaction;
		// wanted those senders wait to add (added in one request).
		added, wanted map[TopicPartition]bool
		// addFailed is set when an AddPartitionsToTxn failed: the coordinator
		// may have stored it all the same (an outcome unknown), so the end asks
		// it even if no partition is known to be added.
		addFailed bool
		// failed is the first failure of a record of the transaction: it can only
		// abort.
		failed error
		// fatal is set once the producer is fenced: every call fails with it.
		fatal error
	}
}

// newTransactional initializes the transactional id id with the store's
// coordinator (starting it, and creating TransactionStateTopic, if needed):
// Kafka's initTransactions. A previous instance with the same id is fenced, and
// its transaction in progress aborted.
func newTransactional(ctx context.Context, s *Store, id string, timeout time.Duration) (*transactional, error) {
	c, err := s.txnCoordinatorFor(true)
	if err != nil {
		return nil, err
	}
	var pe txn.ProducerIDAndEpoch
	err = retryConcurrent(ctx, func() error {
		pe, err = c.InitProducerID(ctx, id, timeout, nil)
		return err
	})
	if err != nil {
		return nil, errorf("strata/log: init transactional id %q: %w", id, err)
	}
	t := &transactional{s: s, id: id, timeout: timeout, coordinator: c, identity: &idempotence{s: s, transactional: true}}
	t.identity.mu.identity = producerIdentity{id: pe.ProducerID, epoch: pe.ProducerEpoch}
	return t, nil
}

// retryConcurrent calls fn until it does not fail with
// txn.ErrConcurrentTransactions (the coordinator is still ending the id's
// previous transaction, or a marker failed and Tick will write it again), with a
// growing pause, or ctx ends.
func retryConcurrent(ctx context.Context, fn func() error) error {
	pause := time.Millisecond
	for {
		err := fn()
		if !errors.Is(err, txn.ErrConcurrentTransactions) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// current returns the producer's id and epoch.
func (t *transactional) current() txn.ProducerIDAndEpoch {
	i := t.identity.current()
	return txn.ProducerIDAndEpoch{ProducerID: i.id, ProducerEpoch: i.epoch}
}

// begin starts a transaction.
func (t *transactional) begin() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.mu.fatal != nil:
		return t.mu.fatal
	case t.mu.inTxn:
		return errorf("strata/log: begin transaction: one is in progress: %w", ErrInvalidTxnState)
	}
	t.mu.inTxn, t.mu.failed = true, nil
	t.mu.added, t.mu.wanted, t.mu.addFailed = map[TopicPartition]bool{}, map[TopicPartition]bool{}, false
	t.generation.Add(1)
	return nil
}

// want notes that records for tp are buffered in the transaction: the first
// sender's AddPartitionsToTxn adds it too, so that a transaction over several
// partitions usually takes one request (one write of the state log) to add them
// all. b is tp's batcher; it notes this once per transaction.
func (t *transactional) want(b *batcher) {
	generation := t.generation.Load()
	if b.txnGeneration == generation {
		return
	}
	b.txnGeneration = generation
	t.mu.Lock()
	if t.mu.inTxn && !t.mu.added[b.tp] {
		t.mu.wanted[b.tp] = true
	}
	t.mu.Unlock()
}

// check returns why the producer cannot add to a transaction now, or nil.
func (t *transactional) check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.mu.fatal != nil:
		return t.mu.fatal
	case !t.mu.inTxn:
		return ErrNotInTransaction
	}
	return nil
}

// checkProduce is check for a record to produce: once a record of the
// transaction failed, later ones fail at once (the transaction can only abort),
// as Kafka's producer fails sends in its abortable error state.
func (t *transactional) checkProduce() error {
	if err := t.check(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.failed != nil {
		return errorf("strata/log: transaction of %q can only abort, a record or offsets of it failed: %w", t.id, t.mu.failed)
	}
	return nil
}

// fail records the failure of a record of the transaction: the transaction can
// only abort. A fenced producer is fenced for good.
func (t *transactional) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.failed == nil {
		t.mu.failed = err
	}
	if isFenced(err) && t.mu.fatal == nil {
		t.mu.fatal = errorf("strata/log: transactional id %q: %w", t.id, ErrProducerFenced)
	}
}

// isFenced reports whether err says a newer epoch of the producer exists.
func isFenced(err error) bool {
	return errors.Is(err, txn.ErrProducerFenced) || errors.Is(err, errInvalidProducerEpoch)
}

// addPartition makes sure tp is in the transaction before the first batch is
// written to it (Kafka's AddPartitionsToTxn, which KIP-890 has the partition
// leader send): partitions waiting meanwhile go in the same request.
func (t *transactional) addPartition(ctx context.Context, tp TopicPartition) error {
	t.mu.Lock()
	if t.mu.fatal != nil {
		defer t.mu.Unlock()
		return t.mu.fatal
	}
	if !t.mu.inTxn {
		t.mu.Unlock()
		return ErrNotInTransaction
	}
	if t.mu.added[tp] {
		t.mu.Unlock()
		return nil
	}
	t.mu.wanted[tp] = true
	t.mu.Unlock()

	t.addMu.Lock()
	defer t.addMu.Unlock()
	t.mu.Lock()
	if t.mu.added[tp] {
		t.mu.Unlock()
		return nil
	}
	wanted := slices.SortedFunc(maps.Keys(t.mu.wanted), topicpartition.Compare)
	t.mu.Unlock()
	err := retryConcurrent(ctx, func() error {
		return t.coordinator.AddPartitionsToTxn(ctx, t.id, t.current(), wanted)
	})
	if err != nil {
		err = errorf("strata/log: add %s to the transaction of %q: %w", tp, t.id, err)
		t.fail(err)
		t.mu.Lock()
		t.mu.addFailed = true
		t.mu.Unlock()
		return err
	}
	t.mu.Lock()
	for _, w := range wanted {
		t.mu.added[w] = true
		delete(t.mu.wanted, w)
	}
	t.mu.Unlock()
	return nil
}

// end ends the transaction in progress: commit (unless a record of it failed) or
// abort. The producer's records must all be acknowledged or failed.
func (t *transactional) end(ctx context.Context, commit bool) error {
	t.mu.Lock()
	switch {
	case t.mu.fatal != nil:
		defer t.mu.Unlock()
		return t.mu.fatal
	case !t.mu.inTxn:
		t.mu.Unlock()
		return ErrNotInTransaction
	}
	failed, touched, uncertain := t.mu.failed, len(t.mu.added) > 0, t.mu.addFailed
	t.mu.Unlock()
	commit = commit && failed == nil
	var err error
	if touched || uncertain {
		t.addMu.Lock()
		var result txn.EndTxnResult
		err = retryConcurrent(ctx, func() error {
			var err error
			result, err = t.coordinator.EndTxn(ctx, t.id, t.current(), commit)
			return err
		})
		if err == nil {
			t.identity.set(producerIdentity{id: result.ProducerID, epoch: result.ProducerEpoch})
		}
		if !touched && errors.Is(err, txn.ErrInvalidTxnState) {
			err = nil // the failed add stored nothing: no transaction to end
		}
		t.addMu.Unlock()
	}
	if err != nil {
		if isFenced(err) {
			t.fail(err)
		}
		// The transaction stays in progress: the caller may abort it, or the
		// coordinator aborts it at its timeout.
		return errorf("strata/log: end the transaction of %q: %w", t.id, err)
	}
	t.mu.Lock()
	t.mu.inTxn = false
	t.mu.Unlock()
	if failed != nil && !errors.Is(failed, ErrTransactionAborted) {
		return errorf("strata/log: commit transaction of %q: %w: %w", t.id, ErrTransactionAborted, failed)
	}
	return nil
}

// inTransaction reports whether a transaction is in progress.
func (t *transactional) inTransaction() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.inTxn && t.mu.fatal == nil
}

// BeginTransaction starts a transaction (Kafka's beginTransaction): records
// produced until CommitTransaction or AbortTransaction belong to it. A
// transactional producer produces only inside a transaction.
func (p *Producer) BeginTransaction() error {
	if p.txn == nil {
		return ErrNotTransactional
	}
	return p.txn.begin()
}

// CommitTransaction waits until every record produced in the transaction is
// acknowledged, then commits the transaction (Kafka's commitTransaction): its
// records, in every partition, become visible to read_committed readers at once,
// with the offsets SendOffsetsToTransaction added. When it returns nil the
// decision is durable: a crash after it changes nothing (the store finishes
// writing the markers when it opens again).
//
// If a record of the transaction failed, it aborts the transaction instead and
// returns an error matching ErrTransactionAborted and the record's failure; the
// producer may begin the next transaction. ErrProducerFenced means the producer is
// done for. Any other error leaves the transaction in progress: abort it.
//
// Produce must not be called while CommitTransaction or AbortTransaction runs, as
// with Kafka's producer: such a record may belong to neither transaction and fail.
func (p *Producer) CommitTransaction(ctx context.Context) error {
	return p.endTransaction(ctx, true)
}

// AbortTransaction waits until every record produced in the transaction is
// acknowledged or failed, then aborts the transaction (Kafka's abortTransaction):
// read_committed readers never see its records, nor its offsets.
func (p *Producer) AbortTransaction(ctx context.Context) error {
	return p.endTransaction(ctx, false)
}

func (p *Producer) endTransaction(ctx context.Context, commit bool) error {
	if p.txn == nil {
		return ErrNotTransactional
	}
	if err := p.txn.check(); err != nil {
		return err
	}
	if err := p.Flush(ctx); err != nil {
		return err
	}
	return p.txn.end(ctx, commit)
}

// SendOffsetsToTransaction commits offsets for a consumer group as part of the
// transaction (Kafka's sendOffsetsToTransaction): they take effect if, and when,
// the transaction commits. group is the consuming member's GroupConsumer.Metadata
// (KIP-447: a member fenced by a rebalance is refused with ErrIllegalGeneration or
// ErrUnknownMemberID, so that a zombie cannot commit); a group without members
// may be given by name alone (GroupMetadata{Group: name}). If the offsets cannot
// be sent, the transaction can only abort: CommitTransaction aborts it and
// returns ErrTransactionAborted, as Kafka's producer makes the failure abortable.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata, group GroupMetadata) error {
	if p.txn == nil {
		return ErrNotTransactional
	}
	if err := p.txn.check(); err != nil {
		return err
	}
	if group.Group == "" {
		return errorf("strata/log: send offsets to transaction: no group: %w", ErrInvalidArgument)
	}
	if len(offsets) == 0 {
		return nil
	}
	return p.txn.sendOffsets(ctx, offsets, group)
}

// TransactionalID returns the producer's transactional id ("" if it is not
// transactional).
func (p *Producer) TransactionalID() string {
	if p.txn == nil {
		return ""
	}
	return p.txn.id
}

// failed records the failure of a round of batches of the transaction, if any
// of its records failed (err, or a record refused alone), and returns err, said
// to be ErrProducerFenced if the partition refused the producer's epoch as older
// than its latest: a newer instance of the transactional id wrote there.
func (t *transactional) failed(err error, batches []*producerBatch) error {
	if err != nil {
		if errors.Is(err, errInvalidProducerEpoch) && !errors.Is(err, ErrProducerFenced) {
			err = fmt.Errorf("%w (%w)", ErrProducerFenced, err)
		}
		t.fail(err)
		return err
	}
	for _, batch := range batches {
		if len(batch.refused) > 0 {
			t.fail(batch.refused[0].err)
			return nil
		}
	}
	return nil
}

// DefaultTransactionTimeout is a transactional producer's default
// ProducerOptions.TransactionTimeout: Kafka's transaction.timeout.ms.
const DefaultTransactionTimeout = txn.DefaultTransactionTimeout
