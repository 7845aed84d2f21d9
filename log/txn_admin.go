package log

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/stratalog/strata/internal/topicpartition"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/txn"
)

// The administration of transactions (Kafka's Admin listTransactions,
// describeTransactions, describeProducers, abortTransaction, and the find-hanging
// rule of kafka-transactions.sh): what the transaction coordinator knows of each
// transactional id, what each partition knows of its producers, and a way to end
// a transaction the coordinator will never end.

// ErrTransactionalIDNotFound is returned by DescribeTransaction for a
// transactional id the coordinator does not know (never used, or expired).
var ErrTransactionalIDNotFound = txn.ErrTransactionalIDNotFound

// TransactionState is the state of a transactional id's transaction, with
// Kafka's names: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
// CompleteAbort, Dead, PrepareEpochFence.
type TransactionState = txn.State

// ProducerState is what a partition knows of one producer: its epoch, last
// sequence and timestamp, the coordinator epoch of its last marker, and the
// first offset of its open transaction (CurrentTxnFirstOffset, -1 if none).
type ProducerState = partition.ProducerState

// TransactionListing is one transactional id of ListTransactions.
type TransactionListing struct {
	TransactionalID string
	// Coordinator is the broker that leads the transaction coordinator's log
	// (partition 0 of TransactionStateTopic): 0 in a one-broker store,
	// replica.NoBroker while none does.
	Coordinator replica.BrokerID
	// ProducerID is the id's current producer id.
	ProducerID int64
	State      TransactionState
}

// TransactionDescription is what the transaction coordinator knows of one
// transactional id (Kafka's DescribeTransactions).
type TransactionDescription struct {
	TransactionalID string
	// Coordinator is as in TransactionListing.
	Coordinator   replica.BrokerID
	ProducerID    int64
	ProducerEpoch int16
	State         TransactionState
	// Timeout is the transaction timeout the producer asked for: the coordinator
	// aborts a transaction older than that.
	Timeout time.Duration
	// StartTime is when the id's current or last transaction added its first
	// partition; zero if it has had none since its producer initialized.
	StartTime time.Time
	// LastUpdateTime is when the id's state last changed.
	LastUpdateTime time.Time
	// Partitions are the partitions of the transaction in progress, sorted: those
	// the coordinator will write a marker to. Empty once it completed.
	Partitions []TopicPartition
}

// HangingTransaction is an open transaction in a partition that no transaction
// coordinator will end: see FindHangingTransactions.
type HangingTransaction struct {
	TopicPartition TopicPartition
	// ProducerState is the producer's state in the partition; its
	// CurrentTxnFirstOffset is the transaction's first offset (kafka-transactions
	// abort --start-offset).
	ProducerState
	// TransactionalID is the transactional id whose producer id this is, "" if
	// the coordinator knows none.
	TransactionalID string
	// Duration is the time since the producer's last batch in the partition, by
	// the store's clock.
	Duration time.Duration
}

// ListTransactions returns every transactional id the transaction coordinator
// knows, sorted by id (Kafka's ListTransactions): none in a store that never had
// a transactional producer.
func (s *Store) ListTransactions() ([]TransactionListing, error) {
	c, err := s.txnCoordinatorFor(false)
	if c == nil || err != nil {
		return nil, err
	}
	leader := s.txnCoordinatorBroker()
	var out []TransactionListing
	for _, md := range c.List() {
		out = append(out, TransactionListing{TransactionalID: md.TransactionalID, Coordinator: leader, ProducerID: md.ProducerID, State: md.State})
	}
	return out, nil
}

// DescribeTransaction returns what the transaction coordinator knows of
// transactionalID (Kafka's DescribeTransactions); an id it does not know is
// ErrTransactionalIDNotFound.
func (s *Store) DescribeTransaction(transactionalID string) (TransactionDescription, error) {
	c, err := s.txnCoordinatorFor(false)
	if err != nil {
		return TransactionDescription{}, err
	}
	if c == nil {
		return TransactionDescription{}, errorf("strata/log: describe transaction %q: %w", transactionalID, ErrTransactionalIDNotFound)
	}
	md, err := c.Describe(transactionalID)
	if err != nil {
		return TransactionDescription{}, err
	}
	return TransactionDescription{
		TransactionalID: md.TransactionalID, Coordinator: s.txnCoordinatorBroker(),
		ProducerID: md.ProducerID, ProducerEpoch: md.ProducerEpoch, State: md.State, Timeout: md.Timeout,
		StartTime: md.StartTime, LastUpdateTime: md.LastUpdateTime, Partitions: md.Partitions,
	}, nil
}

// txnCoordinatorBroker is the broker leading partition 0 of
// TransactionStateTopic, replica.NoBroker if none does (or there is none).
func (s *Store) txnCoordinatorBroker() replica.BrokerID {
	d, err := s.DescribeTopic(TransactionStateTopic)
	if err != nil || len(d.Partitions) == 0 {
		return replica.NoBroker
	}
	return d.Partitions[0].Leader
}

// DescribeProducers returns the state of every producer partition tp remembers,
// sorted by producer id (Kafka's DescribeProducers): in a store of several
// brokers, its leader's. An unknown topic or partition is ErrUnknownTopic or
// ErrUnknownPartition, an offline one its *PartitionOfflineError.
func (s *Store) DescribeProducers(tp TopicPartition) ([]ProducerState, error) {
	p, err := s.lookupPartition(tp)
	if err != nil {
		return nil, s.partitionError("describe producers of", tp, p, err)
	}
	producers, err := p.Producers()
	if err != nil {
		return nil, s.partitionError("describe producers of", tp, p, err)
	}
	return producers, nil
}

// AbortTransaction ends the open transaction of producerID in partition tp
// with an ABORT marker, written directly to the partition (in a store of several
// brokers through its leader, acknowledged by every in-sync replica), as Kafka's
// Admin.abortTransaction does through WriteTxnMarkers. It is the way out of a
// hanging transaction (FindHangingTransactions), whose open records otherwise
// hold the partition's last stable offset back forever: once the marker is
// written, the transaction's records are aborted and read_committed readers move
// past them.
//
// producerEpoch and coordinatorEpoch are the producer's (DescribeProducers:
// ProducerEpoch, and CoordinatorEpoch or 0 if it is -1). An epoch below the
// producer's latest is ErrInvalidProducerEpoch, a coordinator epoch below the
// latest the partition saw ErrTransactionCoordinatorFenced; nothing is written
// then. A producer without an open transaction in the partition gets the marker
// all the same, which ends nothing, as in Kafka.
//
// The coordinator is not told: aborting a transaction it still has in progress
// with this partition aborts this partition's share only, and the coordinator's
// later COMMIT marker here ends nothing, so the transaction is torn. Use it only
// for the transactions FindHangingTransactions reports.
//
// In OffsetsTopic the marker goes through the group coordinator's offsets log,
// which drops the transaction's pending offsets, as Kafka's WriteTxnMarkers
// handler tells its group coordinator.
func (s *Store) AbortTransaction(ctx context.Context, tp TopicPartition, producerID int64, producerEpoch int16, coordinatorEpoch int32) error {
	marker := partition.TxnMarker{
		ProducerID: producerID, ProducerEpoch: producerEpoch, CoordinatorEpoch: coordinatorEpoch,
		Type: partition.MarkerAbort,
		// Kafka's admin writes version 0 markers: the producer's epoch, not a bumped
		// one (version 2 would refuse the epoch of the open transaction).
		TransactionVersion: 0,
	}
	t, p, err := s.lookupTopicPartition(tp)
	if err != nil {
		return s.partitionError("abort transaction in", tp, p, err)
	}
	if tp.Topic == OffsetsTopic {
		if _, err := s.coordinatorFor(false); err != nil {
			return s.partitionError("abort transaction in", tp, p, err)
		}
	}
	if offsets := s.offsetStore.Load(); tp.Topic == OffsetsTopic && offsets != nil {
		err = offsets.WriteTxnMarker(ctx, marker)
	} else if t.replicas != nil {
		err = s.brokers.replicatedMarker(ctx, t.replicas[tp.Partition], marker)
	} else {
		_, err = p.AppendTxnMarker(ctx, marker)
	}
	if err != nil {
		return s.partitionError("abort transaction in", tp, p, err)
	}
	return nil
}

// FindHangingTransactions returns the hanging transactions in the partitions of
// the named topics (every topic, the internal ones included, if none is named),
// by kafka-transactions.sh find-hanging's rule: a transaction open in a partition
// is hanging if its producer's last batch there is older than maxAge (the longest
// transaction timeout a producer may ask for: 0 means Options.MaxTransactionTimeout)
// and the transaction coordinator does not have the partition in a transaction of
// that producer id in progress (Ongoing, PrepareCommit, PrepareAbort): the
// coordinator will then never write its marker. Such a transaction appears when a
// marker is lost, or a producer wrote a transactional batch without the
// coordinator (a bug, or a client of another system); AbortTransaction ends it.
//
// A transaction the coordinator does have in progress is not hanging however old:
// the coordinator aborts it when it times out.
//
// The result is sorted by partition and producer id. An unknown topic fails the
// call (ErrUnknownTopic); an offline partition is left out, and the error joins
// one *PartitionOfflineError per offline partition.
func (s *Store) FindHangingTransactions(maxAge time.Duration, topics ...string) ([]HangingTransaction, error) {
	if maxAge <= 0 {
		maxAge = cmp.Or(s.opts.MaxTransactionTimeout, txn.DefaultMaxTransactionTimeout)
	}
	// The coordinator first: a transaction it ends meanwhile has no open records
	// when its partitions are read below.
	inProgress := map[int64]txn.Metadata{}
	c, err := s.txnCoordinatorFor(false)
	if err != nil {
		return nil, err
	}
	if c != nil {
		for _, md := range c.List() {
			inProgress[md.ProducerID] = md
		}
	}
	chosen, err := s.topicsNamed(topics)
	if err != nil {
		return nil, errorf("strata/log: find hanging transactions: %w", err)
	}
	now := s.opts.Now()
	var out []HangingTransaction
	var errList []error
	for _, t := range chosen {
		for i := range len(t.partitions) {
			tp := TopicPartition{Topic: t.name, Partition: int32(i)}
			p, err := t.partitionAt(tp.Partition)
			var producers []ProducerState
			if err == nil {
				producers, err = p.Producers()
			}
			if err != nil {
				errList = append(errList, s.partitionError("find hanging transactions in", tp, p, err))
				continue
			}
			for _, ps := range producers {
				age := now.Sub(time.UnixMilli(ps.LastTimestamp))
				if ps.CurrentTxnFirstOffset < 0 || age <= maxAge {
					continue
				}
				md, known := inProgress[ps.ProducerID]
				if known && transactionHas(md, tp) {
					continue
				}
				out = append(out, HangingTransaction{TopicPartition: tp, ProducerState: ps, TransactionalID: md.TransactionalID, Duration: age})
			}
		}
	}
	slices.SortFunc(out, func(a, b HangingTransaction) int {
		return cmp.Or(topicpartition.Compare(a.TopicPartition, b.TopicPartition), cmp.Compare(a.ProducerID, b.ProducerID))
	})
	return out, errors.Join(errList...)
}

// transactionHas reports whether md is a transaction in progress that will
// write a marker to tp.
func transactionHas(md txn.Metadata, tp TopicPartition) bool {
	switch md.State {
	case txn.Ongoing, txn.PrepareCommit, txn.PrepareAbort, txn.PrepareEpochFence:
		return slices.Contains(md.Partitions, tp)
	}
	return false
}

// topicsNamed returns the named topics, or every topic sorted by name if none
// is named; an unknown name is ErrUnknownTopic.
func (s *Store) topicsNamed(names []string) ([]*topic, error) {
	set, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		for name := range set {
			names = append(names, name)
		}
		slices.Sort(names)
	}
	chosen := make([]*topic, len(names))
	for i, name := range names {
		if chosen[i] = set[name]; chosen[i] == nil {
			return nil, errorf("topic %q: %w", name, ErrUnknownTopic)
		}
	}
	return chosen, nil
}
