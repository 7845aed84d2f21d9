package log

import (
	"context"
	"errors"
	"sync"
)

// GroupTransactSession is consume-transform-produce with exactly-once results
// (kgo's GroupTransactSession): a GroupConsumer and a transactional Producer,
// where each transaction holds the records produced from what Poll returned and
// the group offsets after those records, committed together or not at all.
//
//	s, err := store.NewGroupTransactSession(consumerOpts, producerOpts)
//	for {
//		s.Begin()
//		records, err := s.Poll(ctx)
//		for _, r := range records { s.Produce(ctx, transform(r), nil) }
//		committed, err := s.End(ctx, true)
//	}
//
// The consumer reads committed records only (ReadCommitted) and never commits
// offsets outside a transaction (its auto-commit is off). End commits the
// transaction with the offsets after the records polled in it; if that cannot
// be done (a record failed, the member was fenced by a rebalance: KIP-447), it
// aborts instead and moves the consumer back to the first record polled in the
// transaction, so that the next transaction processes them again. Output is then
// exactly once for read_committed readers of the output topics: each input
// record's output is committed once, with the offset that moves past it.
//
// A session is for one goroutine, except Close.
type GroupTransactSession struct {
	consumer *GroupConsumer
	producer *Producer

	// endMu is held by End, and by the consumer's OnRevoked and OnLost: a
	// partition is not given up while its transaction ends (as kgo's failMu).
	endMu sync.Mutex
	mu    sync.Mutex
	// first is, per partition, the offset of the first record Poll returned in
	// the transaction in progress; next the offset after the last.
	first, next map[TopicPartition]int64
	// given up is set once a partition polled in the transaction in progress is
	// revoked or lost: another member reads it from the group's committed offset,
	// so the transaction must not commit its output.
	givenUp bool
}

// NewGroupTransactSession returns a session consuming as consumer says and
// producing as producer says. producer.TransactionalID is required (and should
// be stable across restarts of the same application instance, so that a
// restart fences its predecessor); consumer.DisableAutoCommit is forced on, and
// consumer.IsolationLevel to ReadCommitted.
func (s *Store) NewGroupTransactSession(consumer GroupConsumerOptions, producer ProducerOptions) (*GroupTransactSession, error) {
	if producer.TransactionalID == "" {
		return nil, errorf("strata/log: group transact session: ProducerOptions.TransactionalID is required: %w", ErrInvalidConfig)
	}
	consumer.DisableAutoCommit = true
	consumer.IsolationLevel = ReadCommitted
	p, err := s.NewProducer(producer)
	if err != nil {
		return nil, err
	}
	gs := &GroupTransactSession{producer: p}
	onRevoked, onLost := consumer.OnRevoked, consumer.OnLost
	consumer.OnRevoked = func(tps []TopicPartition) {
		gs.giveUp(tps)
		if onRevoked != nil {
			onRevoked(tps)
		}
	}
	consumer.OnLost = func(tps []TopicPartition) {
		gs.giveUp(tps)
		if onLost != nil {
			onLost(tps)
		}
	}
	if gs.consumer, err = s.NewGroupConsumer(consumer); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	return gs, nil
}

// giveUp notes that the consumer gives tps up (OnRevoked, OnLost): if records of
// one were polled in the transaction in progress, End aborts it. It waits for an
// End in progress.
func (gs *GroupTransactSession) giveUp(tps []TopicPartition) {
	gs.endMu.Lock()
	defer gs.endMu.Unlock()
	gs.mu.Lock()
	defer gs.mu.Unlock()
	for _, tp := range tps {
		if _, polled := gs.first[tp]; polled {
			gs.givenUp = true
		}
	}
}

// Consumer returns the session's consumer (to seek, pause, or read its
// assignment; commit only through End).
func (gs *GroupTransactSession) Consumer() *GroupConsumer { return gs.consumer }

// Producer returns the session's transactional producer.
func (gs *GroupTransactSession) Producer() *Producer { return gs.producer }

// Begin starts a transaction.
func (gs *GroupTransactSession) Begin() error {
	if err := gs.producer.BeginTransaction(); err != nil {
		return err
	}
	gs.mu.Lock()
	gs.first, gs.next = map[TopicPartition]int64{}, map[TopicPartition]int64{}
	gs.givenUp = false
	gs.mu.Unlock()
	return nil
}

// Poll is the consumer's Poll; the records it returns belong to the transaction
// in progress, which must have begun.
func (gs *GroupTransactSession) Poll(ctx context.Context) ([]*Record, error) {
	gs.mu.Lock()
	inTxn := gs.first != nil
	gs.mu.Unlock()
	if !inTxn {
		return nil, errorf("strata/log: group transact session: poll: %w", ErrNotInTransaction)
	}
	records, err := gs.consumer.Poll(ctx)
	gs.mu.Lock()
	for _, r := range records {
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if _, ok := gs.first[tp]; !ok {
			gs.first[tp] = r.Offset
		}
		gs.next[tp] = r.Offset + 1
	}
	gs.mu.Unlock()
	return records, err
}

// Produce is the producer's Produce, in the transaction in progress.
func (gs *GroupTransactSession) Produce(ctx context.Context, r *Record, promise func(*Record, error)) {
	gs.producer.Produce(ctx, r, promise)
}

// ProduceSync is the producer's ProduceSync, in the transaction in progress.
func (gs *GroupTransactSession) ProduceSync(ctx context.Context, records ...*Record) ProduceResults {
	return gs.producer.ProduceSync(ctx, records...)
}

// End ends the transaction in progress: with commit, it commits the records
// produced and the offsets after the records polled, and returns true; if the
// offsets or a record cannot be committed, a partition polled in the transaction
// was revoked or lost meanwhile (its new owner reads it from the group's
// committed offset: committed false, and no error, as kgo's), or commit is false,
// it aborts, moves the consumer back to the first record polled in the
// transaction, and returns false. An error with committed false and ErrProducerFenced means another
// instance took the transactional id over: close the session. An error of the
// commit itself that leaves the transaction in progress (ctx ended) is returned
// as is; call End again.
func (gs *GroupTransactSession) End(ctx context.Context, commit bool) (committed bool, err error) {
	gs.endMu.Lock()
	defer gs.endMu.Unlock()
	gs.mu.Lock()
	offsets := make(map[TopicPartition]OffsetAndMetadata, len(gs.next))
	for tp, next := range gs.next {
		offsets[tp] = OffsetAndMetadata{Offset: next}
	}
	commit = commit && !gs.givenUp
	gs.mu.Unlock()
	var cause error
	if commit && len(offsets) > 0 {
		cause = gs.producer.SendOffsetsToTransaction(ctx, offsets, gs.consumer.GroupMetadata())
		if errors.Is(cause, ErrProducerFenced) {
			return false, cause
		}
		commit = cause == nil
	}
	if commit {
		err := gs.producer.CommitTransaction(ctx)
		switch {
		case err == nil:
			gs.endTxn()
			return true, nil
		case errors.Is(err, ErrTransactionAborted):
			return false, errors.Join(err, gs.rewind())
		}
		return false, err
	}
	if err := gs.producer.AbortTransaction(ctx); err != nil {
		return false, err
	}
	rewindErr := gs.rewind()
	if cause != nil {
		return false, errors.Join(errorf("strata/log: group transact session: aborted: %w", cause), rewindErr)
	}
	return false, rewindErr
}

// endTxn forgets the records of the transaction that ended.
func (gs *GroupTransactSession) endTxn() {
	gs.mu.Lock()
	gs.first, gs.next = nil, nil
	gs.mu.Unlock()
}

// rewind moves the consumer back to the first record polled in the aborted
// transaction, in every partition it still owns (one it lost restarts from the
// group's committed offset at its next owner).
func (gs *GroupTransactSession) rewind() error {
	gs.mu.Lock()
	first := gs.first
	gs.first, gs.next = nil, nil
	gs.mu.Unlock()
	owned := map[TopicPartition]bool{}
	for _, tp := range gs.consumer.Assignment() {
		owned[tp] = true
	}
	var err error
	for tp, offset := range first {
		if owned[tp] {
			if seekErr := gs.consumer.Seek(tp, offset); seekErr != nil && !errors.Is(seekErr, ErrUnknownPartition) {
				err = errors.Join(err, seekErr)
			}
		}
	}
	return err
}

// Close aborts the transaction in progress, if any, and closes the consumer
// (which leaves the group without committing) and the producer.
func (gs *GroupTransactSession) Close() error {
	var err error
	if gs.producer.txn.inTransaction() {
		_, err = gs.End(context.Background(), false)
	}
	return errors.Join(err, gs.consumer.Close(), gs.producer.Close())
}
