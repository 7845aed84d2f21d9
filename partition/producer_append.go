package partition

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// Producer is the identity an idempotent or transactional producer writes in its
// batches (Kafka's producerId, producerEpoch and baseSequence): see AppendOptions.
type Producer struct {
	// ID is the producer id, at least 0 (Kafka's InitProducerId hands it out).
	ID int64
	// Epoch is the producer epoch, at least 0; a new epoch starts at sequence 0.
	Epoch int16
	// BaseSequence is the sequence number of the batch's first record, at least 0:
	// the producer's next sequence for this partition. The batch's records take
	// consecutive sequences, wrapping from MaxInt32 to 0 as Kafka's do.
	BaseSequence int32
	// Transactional marks the batch as part of a transaction (attribute bit 4).
	Transactional bool
	// Coordinator says that a coordinator, not the producer, writes the batch on
	// the producer's behalf (Kafka's AppendOrigin.COORDINATOR): the group
	// coordinator's transactional offset commits, which Kafka writes with base
	// sequence 0 every time. Only the epoch is checked (a stale one is
	// ErrInvalidProducerEpoch); the sequence is not, and the batch is never taken
	// for a duplicate.
	Coordinator bool
}

// AppendOptions configure one AppendWith. The zero value appends as Append does.
type AppendOptions struct {
	// Producer, if not nil, is written in the batch, which is then checked against
	// the producer's state as a Kafka leader checks it: a retry of one of the
	// producer's last five batches is ErrDuplicateSequence with the original base
	// offset, a gap ErrOutOfOrderSequence, a stale epoch ErrInvalidProducerEpoch;
	// nothing is written then.
	Producer *Producer
	// NoWait returns once the batch is written to the OS, as Write does, instead of
	// once the sync policy acknowledges it, as Append does.
	NoWait bool
}

// AppendWith appends records as one batch as Append (or Write, with NoWait) does,
// with the producer identity of o written in the batch header. nil o is Append.
func (p *Partition) AppendWith(ctx context.Context, records []Record, o *AppendOptions) (int64, error) {
	if o == nil || (o.Producer == nil && !o.NoWait) {
		return p.encodeAndAppend(ctx, records, nil, true)
	}
	if pr := o.Producer; pr != nil && (pr.ID < 0 || pr.Epoch < 0 || pr.BaseSequence < 0) {
		return 0, errorf("strata/partition: producer id %d, epoch %d, base sequence %d: none may be negative: %w",
			pr.ID, pr.Epoch, pr.BaseSequence, errs.ErrInvalidArgument)
	}
	return p.encodeAndAppend(ctx, records, o.Producer, !o.NoWait)
}

// checkProducerLocked checks a producer's batch against its state (see
// producerStates.check; with coordinator, producerStates.checkEpoch). The caller
// holds appendMu.
func (p *Partition) checkProducerLocked(h *segment.BatchHeader, coordinator bool) (producerBatch, bool, error) {
	p.mu.RLock()
	err := p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return producerBatch{}, false, err
	}
	if err := p.readProducersLocked(); err != nil {
		return producerBatch{}, false, err
	}
	if coordinator {
		return producerBatch{}, false, p.producers.checkEpoch(h)
	}
	return p.producers.check(h)
}

// acknowledgeDuplicateLocked answers a retried batch: the original's base offset and
// ErrDuplicateSequence once the original is acknowledged (it may still wait for its
// fsync, a retry must not be acknowledged before it). It releases appendMu.
func (p *Partition) acknowledgeDuplicateLocked(ctx context.Context, original producerBatch, wait bool) (int64, error) {
	dup := &DuplicateSequenceError{BaseOffset: original.firstOffset(), LastOffset: original.lastOffset}
	if !wait || p.opts.Sync.Mode != SyncEveryAppend {
		p.appendMu.Unlock()
		return dup.BaseOffset, dup
	}
	p.inFlight.Add(1)
	p.appendMu.Unlock()
	defer p.inFlight.Done()
	if err := p.syncTo(ctx, original.lastOffset+1); err != nil {
		return 0, err
	}
	return dup.BaseOffset, dup
}

// DuplicateSequenceError is the error of an append that repeats one of its
// producer's last five batches (errors.Is(err, ErrDuplicateSequence)): nothing was
// written, and the original batch holds offsets BaseOffset to LastOffset. An owner
// that acknowledges on replication (Kafka's acks=all) waits for LastOffset to be
// replicated before it answers the retry with success, as Kafka's leader does.
type DuplicateSequenceError struct {
	BaseOffset, LastOffset int64
}

func (e *DuplicateSequenceError) Error() string {
	return fmt.Sprintf("strata/partition: duplicate sequence number: the batch is already at offsets %d-%d", e.BaseOffset, e.LastOffset)
}

// Is makes errors.Is(err, ErrDuplicateSequence) true.
func (e *DuplicateSequenceError) Is(target error) bool { return target == ErrDuplicateSequence }

// recordProducerLocked updates the producer state with a batch just written (offsets
// set), without checks: the leader checked it, a follower copies its leader. The
// caller holds appendMu.
// A marker that ends a transaction in s, the segment it was written to, completes
// it (txn_stable.go, txn_index.go).
func (p *Partition) recordProducerLocked(batch []byte, h *segment.BatchHeader, s *segment.Segment) error {
	if !h.IsControl() {
		opened := h.IsTransactional() && h.RecordCount > 0 && !p.producers.inTransaction(h.ProducerID)
		p.producers.apply(h)
		if opened {
			p.transactionOpenedLocked(h.BaseOffset)
		}
		return nil
	}
	coordinatorEpoch, ok := markerCoordinatorEpoch(batch)
	if !ok {
		return nil
	}
	first := int64(-1)
	if e := p.producers.producers[h.ProducerID]; e != nil {
		first = e.txnFirstOffset
	}
	p.producers.applyMarker(h.ProducerID, h.ProducerEpoch, coordinatorEpoch, h.MaxTimestamp)
	if first < 0 {
		return nil // no transaction open here: the marker ends nothing
	}
	typ, _ := decodeMarkerType(batch)
	c := completedTxn{producerID: h.ProducerID, firstOffset: first, lastOffset: h.BaseOffset, aborted: typ == MarkerAbort}
	lastStable := p.transactionCompletedLocked(c, s)
	return p.indexAbortedLocked(c, lastStable, s)
}

// markerCoordinatorEpoch returns the coordinator epoch of the transaction marker in
// a control batch (Kafka's EndTransactionMarker: key version int16 and type int16,
// value version int16 and coordinatorEpoch int32), or false if the batch holds none
// (an empty control batch: the cleaner removed the transaction's records, and Kafka
// then ignores it too).
func markerCoordinatorEpoch(batch []byte) (int32, bool) {
	var d segment.Decoder
	if d.Reset(batch) != nil {
		return 0, false
	}
	var r Record
	if ok, err := d.Next(&r); !ok || err != nil || len(r.Value) < 6 {
		return 0, false
	}
	return int32(binary.BigEndian.Uint32(r.Value[2:6])), true
}
