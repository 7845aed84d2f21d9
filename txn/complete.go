package txn

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// end stores decided (PrepareCommit or PrepareAbort) for e, which the caller has
// marked pending, then writes the markers and the completion (complete). It
// fails only if the decision could not be stored.
func (c *Coordinator) end(ctx context.Context, e *entry, decided Metadata) (EndTxnResult, error) {
	if err := c.storeKeeping(ctx, e, decided, true); err != nil {
		return EndTxnResult{ProducerIDAndEpoch: noProducer}, err
	}
	return c.complete(ctx, e), nil
}

// complete writes the markers of e's decided transaction, then its completion.
// e is pending (owned by the caller) and is no longer when complete returns. If a
// marker or the completion fails, e stays decided, for a later retry.
func (c *Coordinator) complete(ctx context.Context, e *entry) EndTxnResult {
	md := e.md // the owner may read it without the lock: nobody else writes it
	// If the markers fail, the identity the id will have once complete: the
	// producer's next transaction waits for it (ErrConcurrentTransactions).
	decided := EndTxnResult{ProducerIDAndEpoch: ProducerIDAndEpoch{md.ProducerID, md.ProducerEpoch}}
	if md.NextProducerID != NoProducerID {
		decided.ProducerIDAndEpoch = ProducerIDAndEpoch{md.NextProducerID, 0}
	}
	commit := md.State == PrepareCommit
	if !c.writeMarkers(ctx, md, commit) {
		c.mu.Lock()
		e.pending = false
		c.mu.Unlock()
		return decided
	}
	next := md.clone()
	next.State = CompleteAbort
	if commit {
		next.State = CompleteCommit
	}
	// LastProducerEpoch stays the decision's: the epoch before the end's bump (or
	// for a fence, the fence's own), as Kafka's completion keeps it, so that the
	// producer re-initializing with the epoch it ended with is a retry.
	next.Partitions, next.LastUpdateTime = nil, c.now()
	if md.NextProducerID != NoProducerID {
		// The bump exhausted the epochs: the next transaction has a new producer id.
		next.PreviousProducerID, next.ProducerID, next.ProducerEpoch = md.ProducerID, md.NextProducerID, 0
		next.NextProducerID = NoProducerID
	}
	if err := c.storeUnsynced(ctx, e, next); err != nil {
		c.logger.Warn("strata/txn: writing a transaction's completion; will retry", slog.String("transactional_id", md.TransactionalID), slog.Any("error", err))
		return decided
	}
	return EndTxnResult{ProducerIDAndEpoch: ProducerIDAndEpoch{next.ProducerID, next.ProducerEpoch}, Complete: true}
}

// maxMarkerWriters bounds how many markers of one transaction are written at
// once.
const maxMarkerWriters = 16

// writeMarkers writes the markers of md's decided transaction to its partitions,
// several at a time (each may wait for an fsync, or for replicas), and reports
// whether they were all written; failures are logged.
func (c *Coordinator) writeMarkers(ctx context.Context, md Metadata, commit bool) bool {
	write := func(tp TopicPartition) bool {
		err := c.markers.WriteMarker(ctx, Marker{Partition: tp, ProducerID: md.ProducerID, ProducerEpoch: md.ProducerEpoch, Commit: commit,
			TransactionVersion: max(md.ClientTransactionVersion, 1)})
		if err != nil {
			c.logger.Warn("strata/txn: writing a transaction marker; will retry", slog.String("transactional_id", md.TransactionalID),
				slog.String("partition", tp.String()), slog.Any("error", err))
		}
		return err == nil
	}
	if len(md.Partitions) == 1 {
		return write(md.Partitions[0])
	}
	var failed atomic.Bool
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxMarkerWriters)
	for _, tp := range md.Partitions {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if !write(tp) {
				failed.Store(true)
			}
		}()
	}
	wg.Wait()
	return !failed.Load()
}

// completeDecided finishes every decided transaction no call is working on.
func (c *Coordinator) completeDecided(ctx context.Context) {
	for _, e := range c.claim(func(md Metadata) bool { return md.State == PrepareCommit || md.State == PrepareAbort }) {
		c.complete(ctx, e)
	}
}

// claim marks pending, and returns, every entry not pending that wants.
func (c *Coordinator) claim(wants func(Metadata) bool) []*entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*entry
	for _, e := range c.mu.entries {
		if !e.pending && e.stored && wants(e.md) {
			e.pending = true
			out = append(out, e)
		}
	}
	return out
}

// Tick does what time calls for: it aborts, with the producer's epoch fenced,
// every Ongoing transaction older than its timeout (Kafka's
// abortTimedOutTransactions); writes again the markers of decided transactions
// whose markers failed; and removes, with a tombstone, every id with no
// transaction in progress not updated for Options.TransactionalIDExpiration.
// It returns the first error of a write it could not retry later (a tombstone).
func (c *Coordinator) Tick(ctx context.Context) error {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return ErrCoordinatorClosed
	}
	c.mu.Unlock()
	now := c.now()
	for _, e := range c.claim(func(md Metadata) bool { return md.State == Ongoing && now.After(md.StartTime.Add(md.Timeout)) }) {
		c.logger.Info("strata/txn: aborting a transaction past its timeout", slog.String("transactional_id", e.md.TransactionalID))
		next, err := c.fence(ctx, e.md, now)
		if err == nil {
			_, err = c.end(ctx, e, next)
		} else {
			c.release(e)
		}
		if err != nil {
			c.logger.Warn("strata/txn: aborting a timed out transaction", slog.String("transactional_id", e.md.TransactionalID), slog.Any("error", err))
		}
	}
	c.completeDecided(ctx)
	return c.expire(ctx, now)
}

// expire removes the ids idle for longer than the expiration, each with a
// tombstone (Kafka's removeExpiredTransactionalIds), all in one append.
func (c *Coordinator) expire(ctx context.Context, now time.Time) error {
	if c.opts.TransactionalIDExpiration < 0 {
		return nil
	}
	horizon := now.Add(-c.opts.TransactionalIDExpiration)
	expired := c.claim(func(md Metadata) bool { return md.State.expirationAllowed() && !md.LastUpdateTime.After(horizon) })
	if len(expired) == 0 {
		return nil
	}
	records := make([]Record, len(expired))
	for i, e := range expired {
		records[i] = Record{Key: EncodeKey(e.md.TransactionalID)}
	}
	err := c.log.Append(ctx, records)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range expired {
		e.pending = false
		if err == nil && c.mu.entries[e.md.TransactionalID] == e {
			delete(c.mu.entries, e.md.TransactionalID)
		}
	}
	if err != nil {
		return errorf("strata/txn: writing the tombstones of %d expired transactional ids: %w", len(expired), err)
	}
	return nil
}
