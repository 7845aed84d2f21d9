package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalog/strata/partition"
)

// Acks is when a produce is acknowledged: Kafka's acks.
type Acks int

const (
	// AcksAll acknowledges once every in-sync replica holds the records durably
	// (under the topic's sync policy): the high watermark covers them (Kafka's
	// acks=all, -1). It needs MinInsyncReplicas in-sync replicas, or fails with
	// ErrNotEnoughReplicas. With one replica it is the leader's fsync.
	AcksAll Acks = iota
	// AcksLeader acknowledges once the leader wrote the records to the OS (Kafka's
	// acks=1): a crash of the leader's machine, or a failover before the followers
	// copied them, may lose them.
	AcksLeader
	// AcksNone acknowledges at once (Kafka's acks=0): the producer learns of no
	// failure.
	AcksNone
)

// String returns Kafka's name of the level.
func (a Acks) String() string {
	switch a {
	case AcksAll:
		return "all"
	case AcksLeader:
		return "leader"
	case AcksNone:
		return "none"
	}
	return fmt.Sprintf("Acks(%d)", int(a))
}

// Produce appends records to the partition, which this replica must lead, as one
// batch, and returns the offset of the first once acks says: see Acks. If the
// leadership moves before an acks=all produce is acknowledged it returns
// ErrNotLeader, and if the ISR falls below MinInsyncReplicas
// ErrNotEnoughReplicasAfterAppend: either way the records may or may not end up in
// the log, as with Kafka. If ctx ends meanwhile it returns ctx.Err(), likewise.
func (r *Replica) Produce(ctx context.Context, records []partition.Record, acks Acks) (int64, error) {
	return r.ProduceWith(ctx, records, acks, nil)
}

// ProduceWith is Produce with the identity of an idempotent producer written in
// the batch (nil: none), checked by the leader's partition as
// partition.AppendOptions.Producer says. A retry of one of the producer's last
// batches, which the leader holds already (written by this leader, or copied from
// an earlier one), writes nothing and returns the original's first offset once
// acks says of the original, with no error, as Kafka's leader answers it: a
// produce whose outcome was unknown can then be retried without writing its
// records twice.
func (r *Replica) ProduceWith(ctx context.Context, records []partition.Record, acks Acks, producer *partition.Producer) (int64, error) {
	base, end, epoch, err := r.appendAsLeaderWith(ctx, records, acks, producer)
	if err != nil || acks != AcksAll {
		return base, err
	}
	if err := r.awaitHighWatermark(ctx, end, epoch); err != nil {
		return base, fmt.Errorf("%w (%w)", err, ErrOutcomeUnknown)
	}
	return base, nil
}

// appendAsLeader appends records as the leader and returns where they begin and
// end, and the leader epoch they were written in.
func (r *Replica) appendAsLeader(ctx context.Context, records []partition.Record, acks Acks) (base, end int64, epoch int32, err error) {
	return r.appendAsLeaderWith(ctx, records, acks, nil)
}

// appendAsLeaderWith is appendAsLeader with a producer's identity (nil: none); for
// a duplicate of one of the producer's batches it returns where the original
// begins and ends.
func (r *Replica) appendAsLeaderWith(ctx context.Context, records []partition.Record, acks Acks, producer *partition.Producer) (base, end int64, epoch int32, err error) {
	if acks < AcksAll || acks > AcksNone {
		return 0, 0, 0, errorf("strata/replica: acks %v: %w", acks, ErrInvalidArgument)
	}
	r.roleMu.RLock()
	defer r.roleMu.RUnlock()
	s, err := r.leaderStateForAppend(acks)
	if err != nil {
		return 0, 0, 0, err
	}
	switch {
	case producer != nil:
		base, err = r.log.AppendWith(ctx, records, &partition.AppendOptions{Producer: producer, NoWait: acks != AcksAll})
		if dup := (*partition.DuplicateSequenceError)(nil); errors.As(err, &dup) {
			return dup.BaseOffset, dup.LastOffset + 1, s.LeaderEpoch, nil
		}
	case acks == AcksAll:
		base, err = r.log.Append(ctx, records)
	default:
		base, err = r.log.Write(ctx, records)
	}
	if err != nil {
		r.checkDisk(err)
		return 0, 0, 0, err
	}
	return base, base + int64(len(records)), s.LeaderEpoch, nil
}

// leaderStateForAppend returns the state under which the replica, leading, may
// append with acks: ErrClosed, ErrNotLeader, or for acks=all ErrNotEnoughReplicas
// while the ISR is below MinInsyncReplicas. The caller holds roleMu for reading
// until its append is written, so that the role cannot change in between.
func (r *Replica) leaderStateForAppend(acks Acks) (State, error) {
	r.mu.Lock()
	s, leading, closed := r.mu.state, r.mu.leading, r.mu.closed
	r.mu.Unlock()
	switch {
	case closed:
		return s, ErrClosed
	case !leading:
		return s, errorf("strata/replica: %s on broker %d: %w", r.name, r.broker, ErrNotLeader)
	case acks == AcksAll && len(s.ISR) < s.Config.MinInsyncReplicas:
		return s, errorf("strata/replica: %s: %d in-sync replicas (%s), min.insync.replicas is %d: %w",
			r.name, len(s.ISR), FormatBrokers(s.ISR), s.Config.MinInsyncReplicas, ErrNotEnoughReplicas)
	}
	return s, nil
}

// awaitHighWatermark waits until the high watermark reaches end while this replica
// leads at epoch.
func (r *Replica) awaitHighWatermark(ctx context.Context, end int64, epoch int32) error {
	for {
		r.mu.Lock()
		r.updateHighWatermarkLocked()
		done, ch, err := r.ackStatusLocked(end, epoch)
		r.mu.Unlock()
		if done || err != nil {
			return err
		}
		if err := r.waitChange(ctx, ch); err != nil {
			return err
		}
	}
}

// ackStatusLocked says whether an acks=all produce ending at end, written at epoch,
// is acknowledged (done), failed (err), or waits on the returned channel.
func (r *Replica) ackStatusLocked(end int64, epoch int32) (done bool, ch <-chan struct{}, err error) {
	s := &r.mu.state
	switch {
	case r.mu.closed:
		return false, nil, ErrClosed
	case !r.mu.leading || s.LeaderEpoch != epoch:
		return false, nil, errorf("strata/replica: %s: the leadership of epoch %d ended before the records were acknowledged: %w", r.name, epoch, ErrNotLeader)
	case r.log.HighWatermark() >= end:
		return true, nil, nil
	case len(s.ISR) < s.Config.MinInsyncReplicas:
		return false, nil, errorf("strata/replica: %s: %d in-sync replicas, min.insync.replicas is %d: %w", r.name, len(s.ISR), s.Config.MinInsyncReplicas, ErrNotEnoughReplicasAfterAppend)
	}
	return false, r.changedLocked(), nil
}
