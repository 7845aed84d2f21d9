package txn

import (
	"context"
	"slices"
)

// AddPartitionsToTxn adds partitions to the producer's transaction, starting one
// if none is in progress (Kafka's AddPartitionsToTxn; with KIP-890 the partition
// leader calls it on the producer's behalf at its first transactional write).
// Adding partitions already in the transaction changes nothing.
//
// Errors: ErrInvalidProducerIDMapping (an id without metadata, or another
// producer id), ErrProducerFenced (an older epoch: a zombie), ErrInvalidProducerEpoch
// (a newer one), ErrConcurrentTransactions (the previous transaction still
// completing), ErrInvalidArgument (an empty topic or negative partition).
func (c *Coordinator) AddPartitionsToTxn(ctx context.Context, transactionalID string, producer ProducerIDAndEpoch, partitions []TopicPartition) error {
	if err := validateID(transactionalID); err != nil {
		return err
	}
	for _, tp := range partitions {
		if tp.Topic == "" || len(tp.Topic) > MaxTransactionalIDBytes || tp.Partition < 0 {
			return errorf("strata/txn: %w: partition %q %d", ErrInvalidArgument, tp.Topic, tp.Partition)
		}
	}
	if len(partitions) == 0 {
		return errorf("strata/txn: %w: no partitions", ErrInvalidArgument)
	}
	c.mu.Lock()
	e, err := c.checkProducerLocked(transactionalID, producer)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	md := e.md
	switch {
	case md.State == PrepareCommit || md.State == PrepareAbort:
		c.mu.Unlock()
		return ErrConcurrentTransactions
	case md.State == Ongoing && containsAll(md.Partitions, partitions):
		c.mu.Unlock()
		return nil
	}
	now := c.now()
	next := md.clone()
	if md.State != Ongoing {
		next.StartTime = now
	}
	next.State, next.LastUpdateTime = Ongoing, now
	next.Partitions = append(next.Partitions, partitions...)
	slices.SortFunc(next.Partitions, compareTopicPartitions)
	next.Partitions = slices.Compact(next.Partitions)
	e.pending = true
	c.mu.Unlock()
	return c.store(ctx, e, next)
}

// AddOffsetsToTxn adds the __consumer_offsets partition of group to the
// producer's transaction (Kafka's AddOffsetsToTxn), so that the offsets the
// producer commits for group in the transaction (TxnOffsetCommit) get its marker.
// Errors as AddPartitionsToTxn; an empty group is ErrInvalidArgument.
func (c *Coordinator) AddOffsetsToTxn(ctx context.Context, transactionalID string, producer ProducerIDAndEpoch, group string) error {
	if group == "" {
		return errorf("strata/txn: %w: empty group", ErrInvalidArgument)
	}
	return c.AddPartitionsToTxn(ctx, transactionalID, producer, []TopicPartition{c.offsetsFor(group)})
}

// checkProducerLocked returns the entry of transactionalID if producer is its
// current producer and no call is changing it.
func (c *Coordinator) checkProducerLocked(transactionalID string, producer ProducerIDAndEpoch) (*entry, error) {
	if c.mu.closed {
		return nil, ErrCoordinatorClosed
	}
	e := c.mu.entries[transactionalID]
	switch {
	case e != nil && e.stored && (e.md.State == PrepareCommit || e.md.State == PrepareAbort) &&
		e.md.NextProducerID == producer.ProducerID && producer.ProducerEpoch == 0:
		// The producer id the decided end moves to (its epochs exhausted),
		// handed out by EndTxn before the markers were all written.
		return nil, ErrConcurrentTransactions
	case e == nil || !e.stored || e.md.ProducerID != producer.ProducerID:
		return nil, ErrInvalidProducerIDMapping
	case producer.ProducerEpoch < e.md.ProducerEpoch:
		return nil, ErrProducerFenced
	case producer.ProducerEpoch > e.md.ProducerEpoch:
		return nil, ErrInvalidProducerEpoch
	case e.pending:
		return nil, ErrConcurrentTransactions
	}
	return e, nil
}

func containsAll(set, partitions []TopicPartition) bool {
	for _, tp := range partitions {
		if _, found := slices.BinarySearchFunc(set, tp, compareTopicPartitions); !found {
			return false
		}
	}
	return true
}

// EndTxnResult is what EndTxn answers: the producer id and epoch for the
// producer's next transaction (KIP-890 bumps the epoch at every end), and whether
// the markers are all written (false: the decision is durable, and Tick or the
// next Open writes the markers).
type EndTxnResult struct {
	ProducerIDAndEpoch
	Complete bool
}

// EndTxn commits or aborts the producer's transaction (Kafka's EndTxn, transaction
// version 2): it writes the decision (PrepareCommit or PrepareAbort) with the epoch
// bumped, so that nothing of the old epoch, such as a delayed EndTxn of this
// transaction, can touch the next one; then a marker to every partition of the
// transaction, carrying the bumped epoch; then CompleteCommit or CompleteAbort.
// Once the decision is stored EndTxn succeeds: if a marker fails, the transaction
// stays decided and Tick (or the next Open) writes its markers again, to every
// partition, until they are all written.
//
// A retried EndTxn, presenting the epoch the transaction was ended with, gets the
// same answer (ErrConcurrentTransactions while the markers are being written).
// Errors: ErrInvalidProducerIDMapping, ErrProducerFenced (an older epoch, or the
// pre-bump epoch once the next transaction began), ErrInvalidProducerEpoch,
// ErrConcurrentTransactions, ErrInvalidTxnState (no transaction, or the opposite
// decision of one already taken).
func (c *Coordinator) EndTxn(ctx context.Context, transactionalID string, producer ProducerIDAndEpoch, commit bool) (EndTxnResult, error) {
	return c.endTxn(ctx, transactionalID, producer, commit, true)
}

// EndTxnVersion1 is EndTxn under transaction version 1 (KIP-98, before KIP-890),
// for Kafka clients that end their transactions with EndTxn v4 or below (Kafka
// takes the request's version as the client's transaction version): the epoch is
// not bumped, the markers carry the transaction's own epoch, and the producer
// goes on with the same epoch, its sequences continuing, in its next
// transaction. The answer carries that same identity. A retry, with the same
// epoch, gets the same answer (ErrConcurrentTransactions while the markers are
// being written); ending with no transaction begun is ErrInvalidTxnState, as on
// Kafka. A transaction aborted for its timeout is fenced with a bumped epoch, as
// under version 2.
func (c *Coordinator) EndTxnVersion1(ctx context.Context, transactionalID string, producer ProducerIDAndEpoch, commit bool) (EndTxnResult, error) {
	return c.endTxn(ctx, transactionalID, producer, commit, false)
}

// endTxn is EndTxn (bump: transaction version 2) and EndTxnVersion1.
func (c *Coordinator) endTxn(ctx context.Context, transactionalID string, producer ProducerIDAndEpoch, commit, bump bool) (EndTxnResult, error) {
	if err := validateID(transactionalID); err != nil {
		return EndTxnResult{ProducerIDAndEpoch: noProducer}, err
	}
	fail := func(err error) (EndTxnResult, error) { return EndTxnResult{ProducerIDAndEpoch: noProducer}, err }
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return fail(ErrCoordinatorClosed)
	}
	e := c.mu.entries[transactionalID]
	if e == nil || !e.stored {
		c.mu.Unlock()
		return fail(ErrInvalidProducerIDMapping)
	}
	md := e.md
	// A retry of an end that rotated the producer id (its epoch overflowed).
	retryOnOverflow := bump && md.PreviousProducerID == producer.ProducerID && producer.ProducerEpoch == 1<<15-2 && md.ProducerEpoch == 0
	// A retry of a version 2 end presents the epoch before the bump; one of
	// version 1 the epoch the transaction kept.
	retryOnBump := md.ProducerEpoch == producer.ProducerEpoch+1
	if !bump {
		retryOnBump = md.ProducerEpoch == producer.ProducerEpoch
	}
	// An abort with nothing added (transaction version 2): Kafka bumps the epoch
	// and answers success, so that a client whose transaction produced nothing
	// can end it like any other.
	emptyAbort := bump && !commit && producer.ProducerEpoch == md.ProducerEpoch &&
		(md.State == Empty || md.State == CompleteCommit || md.State == CompleteAbort)
	var validEpoch bool
	switch md.State {
	case PrepareCommit, PrepareAbort:
		validEpoch = retryOnBump
	case CompleteCommit, CompleteAbort:
		validEpoch = retryOnBump || retryOnOverflow || emptyAbort
	default:
		validEpoch = producer.ProducerEpoch == md.ProducerEpoch
	}
	decided := PrepareAbort
	if commit {
		decided = PrepareCommit
	}
	switch {
	case md.ProducerID != producer.ProducerID && !retryOnOverflow:
		c.mu.Unlock()
		return fail(ErrInvalidProducerIDMapping)
	case !validEpoch && producer.ProducerEpoch > md.ProducerEpoch:
		c.mu.Unlock()
		return fail(ErrInvalidProducerEpoch)
	case !validEpoch:
		c.mu.Unlock()
		return fail(ErrProducerFenced)
	case e.pending:
		c.mu.Unlock()
		return fail(ErrConcurrentTransactions)
	case md.State == PrepareCommit || md.State == PrepareAbort:
		c.mu.Unlock()
		if md.State == decided {
			return fail(ErrConcurrentTransactions)
		}
		return fail(errorf("strata/txn: %w: %s while %s", ErrInvalidTxnState, decisionName(commit), md.State))
	case emptyAbort: // decided below, with no partition to write a marker to
	case md.State == CompleteCommit || md.State == CompleteAbort:
		c.mu.Unlock()
		if (md.State == CompleteCommit) == commit {
			return EndTxnResult{ProducerIDAndEpoch: ProducerIDAndEpoch{md.ProducerID, md.ProducerEpoch}, Complete: true}, nil
		}
		return fail(errorf("strata/txn: %w: %s while %s", ErrInvalidTxnState, decisionName(commit), md.State))
	case md.State != Ongoing:
		c.mu.Unlock()
		return fail(errorf("strata/txn: %w: %s while %s", ErrInvalidTxnState, decisionName(commit), md.State))
	}
	e.pending = true
	c.mu.Unlock()
	next := md.clone()
	next.State, next.LastUpdateTime = decided, c.now()
	next.NextProducerID = NoProducerID
	next.ClientTransactionVersion = clientTransactionVersion
	if !bump {
		next.ClientTransactionVersion = 1
		return c.end(ctx, e, next)
	}
	next.ProducerEpoch, next.LastProducerEpoch = md.ProducerEpoch+1, md.ProducerEpoch
	if epochExhausted(md.ProducerEpoch) {
		id, err := c.ids.NextProducerID(ctx)
		if err != nil {
			c.release(e)
			return fail(err)
		}
		next.NextProducerID = id
	}
	return c.end(ctx, e, next)
}

func decisionName(commit bool) string {
	if commit {
		return "commit"
	}
	return "abort"
}
