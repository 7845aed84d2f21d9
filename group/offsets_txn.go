package group

import (
	"context"
	"maps"
	"slices"

	"github.com/stratalog/strata/partition"
)

// Transactional offset commits in the offsets log (KIP-98): a TxnOffsetCommit is
// one transactional batch of the producer, written by the coordinator for it at
// base sequence 0 as Kafka's group coordinator writes it
// (partition.Producer.Coordinator: the epoch is checked, the sequence is not).
// Its offsets stay pending until the transaction coordinator writes the
// producer's COMMIT or ABORT marker to the offsets partition (WriteTxnMarker).

// WriteTxn implements OffsetStore: one transactional batch of the producer, the
// commits sorted by partition, acknowledged as Write's batches are. A stale
// producer epoch (the producer was fenced, or its transaction has ended) is
// refused by the partition with partition.ErrInvalidProducerEpoch and stores
// nothing.
func (s *PartitionOffsetStore) WriteTxn(ctx context.Context, group string, producerID int64, producerEpoch int16, commits map[TopicPartition]CommittedOffset) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if len(commits) == 0 {
		return nil
	}
	records := make([]partition.Record, 0, len(commits))
	for _, tp := range slices.SortedFunc(maps.Keys(commits), compareTopicPartitions) {
		records = append(records, partition.Record{Key: encodeOffsetKey(group, tp), Value: encodeOffsetValue(commits[tp])})
	}
	producer := &partition.Producer{ID: producerID, Epoch: producerEpoch, BaseSequence: txnCommitBaseSequence, Transactional: true, Coordinator: true}
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	base, err := s.producerAppend(ctx, records, producer)
	if err != nil {
		return errorf("strata/group: writing transactional offsets of group %q for producer %d: %w", group, producerID, err)
	}
	s.table.applyTxn(group, producerID, commits, base)
	return nil
}

// WriteTxnMarker appends the transaction marker m to the offsets partition and,
// once it is acknowledged (durable under the partition's sync policy), ends the
// transaction of m's producer in every group: a COMMIT makes its pending offsets
// the committed ones, except where an offset was committed later in the log; an
// ABORT drops them. The log package calls it as the offsets partition's
// transaction marker writer (txn.MarkerWriter).
//
// A marker for a producer with nothing pending, a repeated marker of a
// transaction already ended included, is written as the partition accepts it
// (partition.AppendTxnMarker writes a repeat again) and changes nothing. A marker
// the partition refuses (a stale epoch, ErrInvalidProducerEpoch; a fenced
// coordinator, ErrTransactionCoordinatorFenced) changes nothing and its error is
// returned; so is a failure to acknowledge it (ErrOutcomeUnknown), after which the
// pending offsets stay pending until the marker is written again.
func (s *PartitionOffsetStore) WriteTxnMarker(ctx context.Context, m partition.TxnMarker) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	if _, err := s.markerAppend(ctx, m); err != nil {
		return errorf("strata/group: writing the transaction marker of producer %d to the offsets log: %w", m.ProducerID, err)
	}
	s.table.complete(m.ProducerID, m.Type == partition.MarkerCommit)
	return nil
}

// PendingTxnPartitions implements OffsetStore.
func (s *PartitionOffsetStore) PendingTxnPartitions(group string) []TopicPartition {
	return s.table.pendingPartitions(group)
}

// SetProducerAppend makes WriteTxn append its transactional batches with append
// rather than the partition's AppendWith: a replicated store writes through the
// partition's leader (replica.Partition.ProduceWith), acknowledged by every
// in-sync replica. append must write the records as one batch with producer's
// identity, flags included (Transactional, Coordinator), and return its base
// offset. Call it before the first WriteTxn.
func (s *PartitionOffsetStore) SetProducerAppend(append func(ctx context.Context, records []partition.Record, producer *partition.Producer) (int64, error)) {
	s.producerAppend = append
}

// SetMarkerAppend makes WriteTxnMarker append markers with append rather than the
// partition's AppendTxnMarker: a replicated store writes them through the
// partition's leader. append returns once the marker is acknowledged. Call it
// before the first WriteTxnMarker.
func (s *PartitionOffsetStore) SetMarkerAppend(append func(ctx context.Context, m partition.TxnMarker) (int64, error)) {
	s.markerAppend = append
}
