package log

import (
	"context"
	"errors"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/txn"
)

// txnMarkers is the txn.MarkerWriter of a store: it appends a transaction's
// COMMIT or ABORT control batch to one partition, durably (in a store of several
// brokers through the leader, acknowledged by every in-sync replica), and for the
// offsets topic through the group coordinator, which then makes the
// transaction's offsets visible or drops them.
type txnMarkers struct{ s *Store }

// WriteMarker implements txn.MarkerWriter. A marker for a partition whose topic
// was deleted is dropped (nothing is left to end), as Kafka's coordinator drops
// it.
func (w txnMarkers) WriteMarker(ctx context.Context, m txn.Marker) error {
	marker := partition.TxnMarker{
		ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, Type: partition.MarkerAbort,
		TransactionVersion: m.TransactionVersion,
	}
	if m.Commit {
		marker.Type = partition.MarkerCommit
	}
	s := w.s
	if m.Partition.Topic == OffsetsTopic {
		// Through the group coordinator's offsets log, which makes the
		// transaction's offsets visible (COMMIT) or drops them (ABORT) once the
		// marker is durable.
		if _, err := s.coordinatorFor(false); err != nil {
			return err
		}
		if offsets := s.offsetStore.Load(); offsets != nil {
			return offsets.WriteTxnMarker(ctx, marker)
		}
	}
	t, p, err := s.lookupTopicPartition(m.Partition)
	if errors.Is(err, ErrUnknownTopic) || errors.Is(err, ErrUnknownPartition) {
		s.logger.Warn("transaction marker for a partition that no longer exists: dropped",
			"partition", m.Partition.String(), "producerId", m.ProducerID, "commit", m.Commit)
		return nil
	}
	if err != nil {
		return err
	}
	if t.replicas != nil {
		return s.brokers.replicatedMarker(ctx, t.replicas[m.Partition.Partition], marker)
	}
	_, err = p.AppendTxnMarker(ctx, marker)
	if err != nil {
		err = s.partitionError("write transaction marker", m.Partition, p, err)
	}
	return err
}

// replicatedMarker writes marker to rp through its leader and returns once every
// in-sync replica holds it, following the leadership as produces do. A marker
// whose outcome was unknown is written again: a repeated marker ends nothing.
func (g *brokerGroup) replicatedMarker(ctx context.Context, rp *replica.Partition, marker partition.TxnMarker) error {
	for attempt := 0; ; attempt++ {
		changed := g.cluster.StateApplied()
		leader, _ := rp.Leader()
		_, err := rp.AppendTxnMarker(ctx, marker)
		failedLeader := leader != nil && leader.Log().Err() != nil
		closedLeader := errors.Is(err, replica.ErrClosed) && !g.cluster.Closed()
		retriable := errors.Is(err, replica.ErrNotLeader) || errors.Is(err, replica.ErrNoLeader) || closedLeader ||
			errors.Is(err, replica.ErrOutcomeUnknown) || (err != nil && failedLeader)
		if err != nil && g.deleted(rp) {
			return nil // nothing left to end
		}
		if !retriable || attempt == produceRetries {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return err
		case <-g.closing:
			return err
		}
	}
}
