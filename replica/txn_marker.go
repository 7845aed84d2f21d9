package replica

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/partition"
)

// AppendTxnMarker appends a transaction marker (COMMIT or ABORT) to the partition,
// which this replica must lead, and returns its offset once the high watermark
// covers it: acks=all, the only acks a transaction coordinator uses for markers
// (Kafka's WriteTxnMarkers). Followers copy the marker with the rest of the log,
// and end the transaction in their producer state as they copy it, so that every
// replica agrees on which transactions are open and which aborted.
//
// It fails as an acks=all ProduceWith does: ErrNotLeader, or ErrNotEnoughReplicas
// while the ISR is below MinInsyncReplicas, with nothing written; the partition's
// refusals (partition.ErrInvalidProducerEpoch, ErrTransactionCoordinatorFenced,
// ErrInvalidArgument), with nothing written either; and once the marker was written
// but not acknowledged (the leadership moved, the ISR fell below
// MinInsyncReplicas, ctx ended, the replica closed), an error matching
// ErrOutcomeUnknown: the marker may or may not become part of the log, and the
// coordinator retries it, on the new leader if the leadership moved.
//
// A retried marker is not an error: a marker for a producer with no transaction
// open in this partition (a retry of one that was acknowledged, or one whose
// outcome was unknown and which made it into the log after all) is written again
// and ends nothing, as Kafka's leader writes it; the offset returned is the new
// marker's, and the producer's transactions, the last stable offset and the
// aborted transactions are as after the first one. Only a marker of a stale
// producer epoch is refused (partition.ErrInvalidProducerEpoch): with transaction
// version 2 that is one of an epoch below the producer's, or of its epoch while a
// later transaction of it is open, a late marker of an earlier transaction that
// must not end the next one (KIP-890).
func (r *Replica) AppendTxnMarker(ctx context.Context, m partition.TxnMarker) (int64, error) {
	offset, epoch, err := r.appendMarkerAsLeader(ctx, m)
	if err != nil {
		return offset, err
	}
	if err := r.awaitHighWatermark(ctx, offset+1, epoch); err != nil {
		return offset, fmt.Errorf("%w (%w)", err, ErrOutcomeUnknown)
	}
	return offset, nil
}

// appendMarkerAsLeader appends a transaction marker as the leader and returns its
// offset and the leader epoch it was written in.
func (r *Replica) appendMarkerAsLeader(ctx context.Context, m partition.TxnMarker) (offset int64, epoch int32, err error) {
	r.roleMu.RLock()
	defer r.roleMu.RUnlock()
	s, err := r.leaderStateForAppend(AcksAll)
	if err != nil {
		return 0, 0, err
	}
	offset, err = r.log.AppendTxnMarker(ctx, m)
	if err != nil {
		r.checkDisk(err)
		return 0, 0, err
	}
	return offset, s.LeaderEpoch, nil
}

// AppendTxnMarker appends a transaction marker through the leader: see
// Replica.AppendTxnMarker.
func (p *Partition) AppendTxnMarker(ctx context.Context, m partition.TxnMarker) (int64, error) {
	r, err := p.Leader()
	if err != nil {
		return 0, err
	}
	return r.AppendTxnMarker(ctx, m)
}
