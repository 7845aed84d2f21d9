package log

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/txn"
)

// TransactionStateTopic is the internal topic holding the transaction
// coordinator's state (Kafka's __transaction_state): per transactional id, its
// producer id and epoch and the state of its transaction, in Kafka's record format.
const TransactionStateTopic = txn.StateTopic

// DefaultTransactionCheckInterval is how often the store aborts transactions older
// than their timeout, writes the markers of decided transactions whose markers
// failed, and expires idle transactional ids (Kafka checks timeouts every 10 s:
// transaction.abort.timed.out.transaction.cleanup.interval.ms).
const DefaultTransactionCheckInterval = time.Second

// txnCoordinatorFor returns the transaction coordinator, starting it if needed.
// Without a transaction state topic it creates one if create is set, and
// otherwise returns nil: a store that never had a transactional producer has
// none.
func (s *Store) txnCoordinatorFor(create bool) (*txn.Coordinator, error) {
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	if s.txnClosed {
		return nil, ErrClosed
	}
	if c := s.txnCoordinator.Load(); c != nil {
		return c, nil
	}
	set, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if set[TransactionStateTopic] == nil {
		if !create {
			return nil, nil
		}
		err := s.createTopic(context.Background(), TransactionStateTopic, s.txnStateTopicConfig(), true)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", TransactionStateTopic, err)
		}
	}
	stateTP := TopicPartition{Topic: TransactionStateTopic, Partition: 0}
	p, err := s.lookupPartition(stateTP)
	if err != nil {
		return nil, err
	}
	state := &txnStateLog{p: p, append: p.Append, appendUnsynced: p.Write}
	if t, err := s.lookupTopic(TransactionStateTopic); err == nil && t.replicas != nil {
		// Through the leader, acknowledged by every in-sync replica (unsynced:
		// by the leader).
		state.append = s.brokers.replicatedAppender(t.replicas[0], AcksAll)
		state.appendUnsynced = s.brokers.replicatedAppender(t.replicas[0], AcksLeader)
	}
	c, err := txn.Open(context.Background(), &txn.Options{
		Log:                       state,
		Markers:                   txnMarkers{s},
		ProducerIDs:               storeProducerIDs{s},
		OffsetsPartition:          func(string) txn.TopicPartition { return TopicPartition{Topic: OffsetsTopic} },
		Now:                       s.opts.Now,
		MaxTransactionTimeout:     s.opts.MaxTransactionTimeout,
		TransactionalIDExpiration: s.opts.TransactionalIDExpiration,
		Logger:                    s.logger,
	})
	if err != nil {
		if errors.Is(err, txn.ErrCorrupt) || errors.Is(err, ErrCorrupt) {
			// The log does not replay: the partition is unusable, so offline.
			return nil, s.takeOffline(stateTP, p, fmt.Errorf("replay: %w", err))
		}
		return nil, err
	}
	s.txnCoordinator.Store(c)
	if s.opts.TransactionCheckInterval > 0 {
		s.done.Add(1)
		go s.tickTransactions(c, s.opts.TransactionCheckInterval)
	}
	return c, nil
}

// openTransactions starts the transaction coordinator if the store has a
// transaction state topic, so that transactions a crash left decided are
// finished and open ones time out even if no transactional producer comes back.
// An offline state topic does not fail Open: transactional calls return its
// *PartitionOfflineError.
func (s *Store) openTransactions() error {
	_, err := s.txnCoordinatorFor(false)
	if errors.Is(err, ErrPartitionOffline) {
		return nil
	}
	return err
}

// tickTransactions runs c's Tick every interval until the store closes.
func (s *Store) tickTransactions(c *txn.Coordinator, interval time.Duration) {
	defer s.done.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), interval*10)
		if err := c.Tick(ctx); err != nil && !errors.Is(err, txn.ErrCoordinatorClosed) {
			s.logger.Warn("transaction coordinator: checking timeouts failed; will retry", "err", err)
		}
		cancel()
	}
}

// closeTransactions stops the transaction coordinator: later transactional calls
// fail with ErrClosed. Transactions left open time out after the next Open.
func (s *Store) closeTransactions() {
	s.txnMu.Lock()
	s.txnClosed = true
	s.txnMu.Unlock()
	if c := s.txnCoordinator.Load(); c != nil {
		c.Close()
	}
}

// txnStateTopicConfig is the configuration of the transaction state topic: as
// the offsets topic's (one compacted partition, every write fsynced, nothing
// deleted by age or size; three replicas, two in sync, where there are brokers
// for it: Kafka's transaction.state.log.replication.factor and min.isr).
func (s *Store) txnStateTopicConfig() TopicConfig {
	return s.offsetsTopicConfig()
}

// txnStateLog is the txn.Log of a store: partition 0 of TransactionStateTopic.
type txnStateLog struct {
	p                      *partition.Partition
	append, appendUnsynced appendFunc
}

// Append implements txn.Log: one batch, acknowledged once durable (fsynced, and
// in a store of several brokers held by every in-sync replica).
func (l *txnStateLog) Append(ctx context.Context, records []txn.Record) error {
	_, err := l.append(ctx, stateRecords(records))
	return err
}

// AppendUnsynced implements txn.UnsyncedLog: one batch, acknowledged once
// written (by the leader), fsynced in the background or by the next Append.
func (l *txnStateLog) AppendUnsynced(ctx context.Context, records []txn.Record) error {
	_, err := l.appendUnsynced(ctx, stateRecords(records))
	return err
}

// stateRecords converts the coordinator's records for the partition.
func stateRecords(records []txn.Record) []partition.Record {
	batch := make([]partition.Record, len(records))
	for i, r := range records {
		batch[i] = partition.Record{Key: r.Key, Value: r.Value}
	}
	return batch
}

// Replay implements txn.Log: every record from the partition's start to its end.
func (l *txnStateLog) Replay(ctx context.Context, fn func(txn.Record) error) error {
	r := l.p.NewReader(l.p.StartOffset(), 0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.TryNext()
		if err != nil {
			return err
		}
		if rec == nil {
			return nil
		}
		var value []byte
		if rec.Value != nil {
			value = append([]byte{}, rec.Value...)
		}
		if err := fn(txn.Record{Key: append([]byte{}, rec.Key...), Value: value}); err != nil {
			return err
		}
	}
}

// storeProducerIDs is the txn.ProducerIDAllocator of a store: the ids its
// idempotent producers take too, so that no two producers ever share one.
type storeProducerIDs struct{ s *Store }

// NextProducerID implements txn.ProducerIDAllocator.
func (a storeProducerIDs) NextProducerID(ctx context.Context) (int64, error) {
	return a.s.nextProducerID(ctx)
}
