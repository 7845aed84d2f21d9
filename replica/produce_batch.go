package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// ProduceBatch appends an encoded record batch (RecordBatch v2, as a Kafka producer
// sends it) to the partition, which this replica must lead, and returns the offset
// of its first record once acks says, as Produce does for records. The leader's log
// checks the batch and writes it as it came, but for its base offset and leader
// epoch (partition.Partition.AppendBatch, WriteBatch): batch is modified in place. A
// batch with a producer id is checked against the producer's state; a retry of one
// of its producer's last batches writes nothing and returns the original's first
// offset with no error once acks says of the original, as ProduceWith does.
func (r *Replica) ProduceBatch(ctx context.Context, batch []byte, acks Acks) (int64, error) {
	base, end, epoch, err := r.appendBatchAsLeader(ctx, batch, acks)
	if err != nil || acks != AcksAll {
		return base, err
	}
	if err := r.awaitHighWatermark(ctx, end, epoch); err != nil {
		return base, fmt.Errorf("%w (%w)", err, ErrOutcomeUnknown)
	}
	return base, nil
}

// appendBatchAsLeader appends an encoded batch as the leader and returns where it
// begins and ends (for a duplicate, where the original does), and the leader epoch
// it was written in.
func (r *Replica) appendBatchAsLeader(ctx context.Context, batch []byte, acks Acks) (base, end int64, epoch int32, err error) {
	if acks < AcksAll || acks > AcksNone {
		return 0, 0, 0, errorf("strata/replica: acks %v: %w", acks, ErrInvalidArgument)
	}
	r.roleMu.RLock()
	defer r.roleMu.RUnlock()
	s, err := r.leaderStateForAppend(acks)
	if err != nil {
		return 0, 0, 0, err
	}
	if acks == AcksAll {
		base, err = r.log.AppendBatch(ctx, batch)
	} else {
		base, err = r.log.WriteBatch(ctx, batch)
	}
	if dup := (*partition.DuplicateSequenceError)(nil); errors.As(err, &dup) {
		return dup.BaseOffset, dup.LastOffset + 1, s.LeaderEpoch, nil
	}
	if err != nil {
		r.checkDisk(err)
		return 0, 0, 0, err
	}
	h, err := segment.ParseBatchHeader(batch, len(batch)) // checked by the append
	if err != nil {
		return 0, 0, 0, err
	}
	return base, h.NextOffset(), s.LeaderEpoch, nil
}

// ProduceBatch appends an encoded batch through the leader: see
// Replica.ProduceBatch.
func (p *Partition) ProduceBatch(ctx context.Context, batch []byte, acks Acks) (int64, error) {
	r, err := p.Leader()
	if err != nil {
		return 0, err
	}
	return r.ProduceBatch(ctx, batch, acks)
}
