package log

import (
	"context"
	"errors"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/txn"
)

// The serving API is what a server speaking Kafka's protocol over a Store needs
// (the kafka module's listener): a client's batch appended as it came
// (AppendBatch), whole batches fetched as they lie on disk (FetchBatches), a wait
// for a long-poll fetch (WaitForData), the coordinators of groups and
// transactions (GroupCoordinator, TxnCoordinator), and a broker's view of all of
// it (Store.Broker), refusing what the broker does not lead as a Kafka broker does.
// Metadata, ListOffsets and DescribeConfigs answers come from Brokers,
// DescribeTopic (leaders, replicas, ISR), ListStartOffsets, ListEndOffsetsFor,
// ListOffsetsForTime, ListMaxTimestampOffsets and TopicConfig.Configs.

// AppendBatchOptions configure an AppendBatch. The zero value appends at AcksAll
// with no transactional id.
type AppendBatchOptions struct {
	// Acks is the produce request's acks: AcksAll (-1) returns once every in-sync
	// replica holds the batch, AcksLeader (1) once the leader wrote it to the OS,
	// AcksNone (0) likewise (the server then sends no answer).
	Acks Acks
	// TransactionalID is the produce request's transactional id, required for a
	// transactional batch: the partition is added to the producer's transaction
	// if it is not in it yet (see AppendBatch).
	TransactionalID string
}

// AppendBatch appends one record batch produced by a client (RecordBatch v2, as a
// Kafka producer sends it) to partition tp through its leader, and returns the
// offset of its first record. The batch is checked as Kafka's LogValidator checks
// it and then written as it came, never re-encoded: the leader sets its base
// offset and partition leader epoch, in place (they lie outside the CRC), so the
// caller must not use batch during the call. In a store of several brokers the
// call follows the partition's leader as a Producer does (Store.Broker's
// AppendBatch refuses instead, as a Kafka broker does).
//
// A batch with a producer id is checked by the partition against the producer's
// state: a retry of one of the producer's last five batches writes nothing and
// returns the original's first offset, with no error, as Kafka answers it; a gap
// in sequences is partition.ErrOutOfOrderSequence, a stale epoch
// ErrInvalidProducerEpoch (partition's).
//
// A transactional batch needs o.TransactionalID. Before it is written, its
// partition is added to the producer's transaction at the transaction coordinator
// (which changes nothing if it is in already): the partition leader's implicit
// AddPartitionsToTxn of KIP-890's transaction version 2, so that a client of
// version 2 does not send AddPartitionsToTxn and one of version 1, which does,
// finds it done. Since strata's coordinator bumps the producer epoch at the end
// of every transaction, a late batch of an ended transaction carries an old epoch
// and is refused (ErrProducerFenced) instead of opening a hanging transaction.
//
// Errors, nothing written: ErrUnknownTopic, ErrUnknownPartition, ErrInternalTopic
// (only the store writes its internal topics), ErrRecordTooLarge (over the topic's
// MaxBatchBytes), ErrBatchChecksum, ErrUnsupportedCompression (lz4),
// ErrInvalidBatch, the transaction coordinator's (ErrProducerFenced,
// ErrConcurrentTransactions, txn.ErrInvalidProducerIDMapping, ...), the
// partition's producer checks, a *PartitionOfflineError, replica.ErrNotEnoughReplicas.
// After the write, as for Produce: ErrOutcomeUnknown.
func (s *Store) AppendBatch(ctx context.Context, tp TopicPartition, batch []byte, o AppendBatchOptions) (int64, error) {
	return s.appendClientBatch(ctx, nil, tp, batch, o)
}

// appendClientBatch is AppendBatch through broker, which must lead tp (nil:
// through whichever leads).
func (s *Store) appendClientBatch(ctx context.Context, broker *replica.BrokerID, tp TopicPartition, batch []byte, o AppendBatchOptions) (int64, error) {
	if o.Acks < AcksAll || o.Acks > AcksNone {
		return 0, errorf("strata/log: append a batch to %s: acks %d: %w", tp, o.Acks, ErrInvalidArgument)
	}
	t, err := s.servedTopic(tp)
	if err != nil {
		return 0, err
	}
	if t.internal {
		return 0, errorf("strata/log: append a batch to %s: %w", tp, ErrInternalTopic)
	}
	h, err := checkClientBatch(batch, t.config.MaxBatchBytes, t.config.compacts())
	if err != nil {
		return 0, errorf("strata/log: append a batch to %s: %w", tp, err)
	}
	if h.IsTransactional() {
		// A broker that does not lead tp refuses the batch before the
		// transaction hears of it, as Kafka's follower answers before any
		// verification (KIP-890); the append checks again.
		if err := checkLeads(broker, t, tp); err != nil {
			return 0, err
		}
		producer := txn.ProducerIDAndEpoch{ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch}
		if err := s.addToTransaction(ctx, o.TransactionalID, producer, tp); err != nil {
			return 0, err
		}
	}
	identity := h.ProducerID >= 0
	if t.replicas != nil {
		return s.appendReplicated(ctx, broker, t, tp, batch, o.Acks, identity)
	}
	if err := checkLeads(broker, t, tp); err != nil {
		return 0, err
	}
	return s.appendOneBroker(ctx, t, tp, batch, o.Acks, identity)
}

// checkLeads returns a *NotLeaderError if broker (nil: whichever leads) does not
// lead tp of t now.
func checkLeads(broker *replica.BrokerID, t *topic, tp TopicPartition) error {
	switch {
	case broker == nil:
		return nil
	case t.replicas != nil:
		_, err := leadingReplica(tp, t.replicas[tp.Partition], *broker)
		return err
	case *broker != 0:
		return &NotLeaderError{TopicPartition: tp, Broker: *broker, Leader: 0}
	}
	return nil
}

// addToTransaction adds tp to the transaction of transactionalID's producer, as
// KIP-890's partition leader does at a transactional batch.
func (s *Store) addToTransaction(ctx context.Context, transactionalID string, producer txn.ProducerIDAndEpoch, tp TopicPartition) error {
	if transactionalID == "" {
		return errorf("strata/log: append a batch to %s: a transactional batch of producer %d without a transactional id: %w", tp, producer.ProducerID, ErrInvalidArgument)
	}
	c, err := s.txnCoordinatorFor(false)
	if err != nil {
		return err
	}
	if c == nil { // no transactional id was ever initialised
		return errorf("strata/log: append a batch to %s: transactional id %q: %w", tp, transactionalID, txn.ErrInvalidProducerIDMapping)
	}
	err = retryConcurrent(ctx, func() error {
		return c.AddPartitionsToTxn(ctx, transactionalID, producer, []TopicPartition{tp})
	})
	if err != nil {
		return errorf("strata/log: add %s to the transaction of %q: %w", tp, transactionalID, err)
	}
	return nil
}

// appendReplicated appends a checked batch to tp in a store of several brokers:
// through broker, which must lead tp, or (nil) through whichever leads.
func (s *Store) appendReplicated(ctx context.Context, broker *replica.BrokerID, t *topic, tp TopicPartition, batch []byte, acks Acks, identity bool) (int64, error) {
	rp := t.replicas[tp.Partition]
	level := replicaAcks(acks)
	if broker == nil {
		base, err := t.group.throughLeader(ctx, rp, identity, func() (int64, error) {
			return rp.ProduceBatch(ctx, batch, level)
		})
		if err != nil {
			return base, errorf("strata/log: append a batch to %s: %w", tp, err)
		}
		return base, nil
	}
	r, err := leadingReplica(tp, rp, *broker)
	if err != nil {
		return 0, err
	}
	base, err := r.ProduceBatch(ctx, batch, level)
	switch {
	case errors.Is(err, replica.ErrNotLeader) || (errors.Is(err, replica.ErrClosed) && !t.group.cluster.Closed()):
		return 0, errors.Join(&NotLeaderError{TopicPartition: tp, Broker: *broker, Leader: rp.State().Leader}, err)
	case err != nil:
		return base, errorf("strata/log: append a batch to %s: %w", tp, err)
	}
	return base, nil
}

// appendOneBroker appends a checked batch to tp in a one-broker store, following
// the partition to its replacement if AlterTopicConfig reopens it meanwhile (as
// appendTarget does). A duplicate of an idempotent producer's batch answers with
// the original's offset.
func (s *Store) appendOneBroker(ctx context.Context, t *topic, tp TopicPartition, batch []byte, acks Acks, identity bool) (int64, error) {
	p, err := t.partitionAt(tp.Partition)
	if err != nil {
		return 0, err
	}
	write := func(p *partition.Partition) (int64, error) {
		if acks == AcksAll {
			return p.AppendBatch(ctx, batch)
		}
		return p.WriteBatch(ctx, batch)
	}
	base, err := write(p)
	for range maxReplacements {
		if err == nil || !errors.Is(err, ErrClosed) || (!identity && errors.Is(err, ErrOutcomeUnknown)) {
			break
		}
		next := s.replacement(ctx, tp, t.incarnation, p)
		if next == nil {
			break
		}
		p = next
		base, err = write(p)
	}
	if dup := (*partition.DuplicateSequenceError)(nil); errors.As(err, &dup) {
		return dup.BaseOffset, nil
	}
	if err != nil {
		return 0, s.partitionError("append a batch to", tp, p, err)
	}
	return base, nil
}

// servedTopic returns tp's topic, ErrUnknownTopic, ErrUnknownPartition or
// ErrClosed.
func (s *Store) servedTopic(tp TopicPartition) (*topic, error) {
	t, err := s.lookupTopic(tp.Topic)
	if err != nil {
		return nil, err
	}
	if tp.Partition < 0 || int(tp.Partition) >= len(t.partitions) {
		return nil, errorf("strata/log: topic %q has %d partitions, no partition %d: %w", tp.Topic, len(t.partitions), tp.Partition, ErrUnknownPartition)
	}
	return t, nil
}
