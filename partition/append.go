package partition

import (
	"context"
	"sync"
	"time"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// encodeBuffers recycles the buffers Append encodes batches into, so that appends
// allocate nothing per record in the steady state.
var encodeBuffers = sync.Pool{New: func() any { return new(encodeBuffer) }}

type encodeBuffer struct {
	batch   []byte
	records []Record // copy of the caller's records when timestamps must be filled in
}

// Append appends records as one batch and returns the offset of the first; the
// records get consecutive offsets. A record with a zero Timestamp gets the current
// time. It returns once the batch is acknowledged under the sync policy: with
// SyncEveryAppend (the default) once it is fsynced. A batch larger than MaxBatchBytes
// is ErrRecordTooLarge and nothing is written.
//
// Once the batch is written, any failure to acknowledge it (its fsync failed, the
// partition closed, ctx ended while it waited) is an error matching
// ErrOutcomeUnknown, and ctx.Err() or the cause with errors.Is: the records may still
// become part of the log, as with a timed-out Kafka produce.
func (p *Partition) Append(ctx context.Context, records []Record) (int64, error) {
	return p.encodeAndAppend(ctx, records, nil, true)
}

// Write appends records like Append but returns as soon as the batch is written to
// the OS (Kafka's acks=1), without waiting for the sync policy's fsync. Under
// SyncEveryAppend the fsync starts in the background (shared with other appends, as
// group commit) and readers see the records once it completes; a crash before then
// may lose them. Under SyncPeriodic and SyncNone, Write is Append.
func (p *Partition) Write(ctx context.Context, records []Record) (int64, error) {
	return p.encodeAndAppend(ctx, records, nil, false)
}

// encodeAndAppend encodes records as one batch, with producer's identity if not nil,
// and appends it; wait says whether to wait for the sync policy's acknowledgement.
func (p *Partition) encodeAndAppend(ctx context.Context, records []Record, producer *Producer, wait bool) (int64, error) {
	if len(records) == 0 {
		return 0, errorf("strata/partition: append of no records: %w", errs.ErrInvalidArgument)
	}
	buf := encodeBuffers.Get().(*encodeBuffer)
	defer encodeBuffers.Put(buf)
	records = buf.withTimestamps(records, p.opts.Now)
	o := segment.BatchOptions{Compression: p.opts.Compression}
	if producer != nil {
		o.Idempotent, o.ProducerID, o.ProducerEpoch, o.BaseSequence = true, producer.ID, producer.Epoch, producer.BaseSequence
		o.Transactional = producer.Transactional
	}
	batch, err := segment.AppendBatch(buf.batch[:0], records, &o)
	clear(buf.records)
	if err != nil {
		return 0, err
	}
	buf.batch = batch
	if len(batch) > p.opts.MaxBatchBytes {
		return 0, errorf("strata/partition: batch of %d bytes exceeds MaxBatchBytes %d: %w", len(batch), p.opts.MaxBatchBytes, errs.ErrRecordTooLarge)
	}
	h, err := segment.ParseBatchHeader(batch, p.opts.MaxBatchBytes)
	if err != nil {
		return 0, err
	}
	return p.appendBatch(ctx, batch, &h, wait, producer != nil && producer.Coordinator)
}

// withTimestamps returns records, or a copy in b.records with zero timestamps set to
// now.
func (b *encodeBuffer) withTimestamps(records []Record, now func() time.Time) []Record {
	missing := false
	for i := range records {
		if records[i].Timestamp == 0 {
			missing = true
			break
		}
	}
	if !missing {
		return records
	}
	ms := now().UnixMilli()
	b.records = append(b.records[:0], records...)
	for i := range b.records {
		if b.records[i].Timestamp == 0 {
			b.records[i].Timestamp = ms
		}
	}
	return b.records
}

// AppendBatch appends an encoded RecordBatch v2 (as built by segment.AppendBatch,
// or received from a Kafka producer) and returns the offset of its first record. It
// verifies the batch (length, magic, CRC) and rewrites its base offset and leader
// epoch in place (neither is under the CRC); the caller must not modify batch during
// the call. A batch over MaxBatchBytes is
// ErrRecordTooLarge; an invalid one (its CRC, its header, a record count that does
// not fill its offset range, as Kafka's LogValidator refuses) is ErrInvalidArgument;
// nothing is written. A
// batch with a producer id (>= 0) must carry an epoch and a base sequence (not
// negative) and is checked as AppendWith checks its producer: see AppendOptions. A
// control batch (a transaction marker) is ErrInvalidArgument, as in Kafka, where
// only the transaction coordinator writes them.
//
// AppendBatch does not decode the records: an owner taking batches from clients
// checks them first as Kafka's LogValidator does (records that decode, a codec
// strata reads), as the log package's Store.AppendBatch does.
func (p *Partition) AppendBatch(ctx context.Context, batch []byte) (int64, error) {
	return p.appendEncodedBatch(ctx, batch, true)
}

// WriteBatch appends an encoded batch as AppendBatch does but returns as soon as it
// is written to the OS, as Write does for Append (Kafka's acks=1): under
// SyncEveryAppend its fsync runs in the background.
func (p *Partition) WriteBatch(ctx context.Context, batch []byte) (int64, error) {
	return p.appendEncodedBatch(ctx, batch, false)
}

// appendEncodedBatch checks and appends an encoded batch: see AppendBatch; wait
// says whether to wait for the sync policy's acknowledgement.
func (p *Partition) appendEncodedBatch(ctx context.Context, batch []byte, wait bool) (int64, error) {
	if len(batch) > p.opts.MaxBatchBytes {
		return 0, errorf("strata/partition: batch of %d bytes exceeds MaxBatchBytes %d: %w", len(batch), p.opts.MaxBatchBytes, errs.ErrRecordTooLarge)
	}
	h, err := segment.VerifyBatch(batch, p.opts.MaxBatchBytes)
	if err != nil {
		return 0, errorf("strata/partition: invalid batch (%v): %w", err, errs.ErrInvalidArgument)
	}
	if h.RecordCount <= 0 || int64(h.LastOffsetDelta)+1 != int64(h.RecordCount) {
		// Kafka's LogValidator: "Inconsistent batch offset range" (a client's batch
		// fills its offsets; only compaction leaves a batch with fewer records).
		return 0, errorf("strata/partition: batch of %d records with an offset range of %d: %w",
			h.RecordCount, int64(h.LastOffsetDelta)+1, errs.ErrInvalidArgument)
	}
	if h.IsControl() {
		// Kafka's leader refuses them too ("Clients are not allowed to write control
		// records"): a transaction marker comes from the transaction coordinator.
		return 0, errorf("strata/partition: a control batch (a transaction marker) cannot be appended by a producer: %w", errs.ErrInvalidArgument)
	}
	if h.ProducerID >= 0 && (h.ProducerEpoch < 0 || h.BaseSequence < 0) {
		return 0, errorf("strata/partition: batch of producer %d with epoch %d and base sequence %d: %w",
			h.ProducerID, h.ProducerEpoch, h.BaseSequence, errs.ErrInvalidArgument)
	}
	return p.appendBatch(ctx, batch, &h, wait, false)
}

// appendBatch writes batch and, if wait, returns once the sync policy acknowledges
// it; otherwise a background fsync is scheduled under SyncEveryAppend. coordinator
// says that a coordinator writes the batch for its producer (Producer.Coordinator).
func (p *Partition) appendBatch(ctx context.Context, batch []byte, h *segment.BatchHeader, wait, coordinator bool) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p.appendMu.Lock()
	if h.ProducerID >= 0 {
		original, dup, err := p.checkProducerLocked(h, coordinator)
		if err != nil {
			p.appendMu.Unlock()
			return 0, err
		}
		if dup {
			return p.acknowledgeDuplicateLocked(ctx, original, wait)
		}
	}
	return p.writeAndAcknowledgeLocked(ctx, batch, h, wait)
}

// writeAndAcknowledgeLocked writes a batch that was checked and, if wait, returns
// once the sync policy acknowledges it. The caller holds appendMu, which it releases.
func (p *Partition) writeAndAcknowledgeLocked(ctx context.Context, batch []byte, h *segment.BatchHeader, wait bool) (int64, error) {
	base, err := p.writeLocked(batch, h)
	if err != nil {
		p.appendMu.Unlock()
		return 0, err
	}
	if p.opts.Sync.Mode != SyncEveryAppend {
		p.appendMu.Unlock()
		return base, nil
	}
	if !wait {
		p.scheduleSyncLocked()
		p.appendMu.Unlock()
		return base, nil
	}
	// Between its write and its acknowledgement an append is in flight: TruncateTo
	// waits for it, so that it never acknowledges a batch that truncation removed.
	p.inFlight.Add(1)
	p.appendMu.Unlock()
	defer p.inFlight.Done()
	if err := p.syncTo(ctx, h.NextOffset()); err != nil {
		// Written, then not made durable (the fsync failed, the partition closed,
		// ctx ended while it waited): unlike an append refused before its write,
		// this one must not be retried as if unwritten, which would store it twice.
		return 0, errorf("strata/partition: batch at offset %d written, but not acknowledged durable: %w (%w)", base, errs.ErrOutcomeUnknown, err)
	}
	return base, nil
}

// writeLocked stamps the batch with the next offset and the leader epoch, rolls if
// needed and writes it.
func (p *Partition) writeLocked(batch []byte, h *segment.BatchHeader) (int64, error) {
	p.mu.RLock()
	base := p.mu.written.offset
	p.mu.RUnlock()
	epoch, err := p.stampLocked(base)
	if err != nil {
		return 0, err
	}
	segment.SetBaseOffset(batch, base)
	h.BaseOffset = base
	segment.SetPartitionLeaderEpoch(batch, epoch)
	h.PartitionLeaderEpoch = epoch
	return base, p.writeBatchLocked(batch, h)
}

// writeBatchLocked writes a batch whose offsets are set, at or above the written
// offset, rolling first if needed.
func (p *Partition) writeBatchLocked(batch []byte, h *segment.BatchHeader) error {
	p.mu.RLock()
	err := p.usableLocked()
	written := p.mu.written
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := p.markDirtyLocked(); err != nil {
		return err
	}
	if h.ProducerID >= 0 && p.producersUnread {
		if err := p.readProducersLocked(); err != nil {
			return err
		}
	}
	active := written.seg
	if p.shouldRoll(active, h, len(batch)) {
		// The new segment begins at the written offset, not at the batch: a
		// replicated batch may follow a gap (AppendReplica), and segments must follow
		// each other without one (survey.go); the gap opens the new segment, which
		// is based below the bound of gaps and so accepts it.
		if active, err = p.rollLocked(written.offset); err != nil {
			return err
		}
	}
	if err := active.Append(batch, h); err != nil {
		return p.fail(err)
	}
	if h.ProducerID >= 0 {
		if err := p.recordProducerLocked(batch, h, active); err != nil {
			return p.fail(err)
		}
	}
	m := mark{offset: h.NextOffset(), seg: active, pos: active.Size()}
	p.mu.Lock()
	p.mu.written = m
	if p.opts.Sync.Mode != SyncEveryAppend {
		p.acknowledgeLocked(m)
	} else {
		p.notifyLocked()
	}
	p.mu.Unlock()
	p.stats.appends.Add(1)
	p.stats.appendedRecords.Add(uint64(h.RecordCount))
	p.stats.appendedBytes.Add(uint64(len(batch)))
	if p.opts.Sync.Mode == SyncPeriodic {
		p.unsynced += int(h.RecordCount)
		if p.opts.Sync.EveryRecords > 0 && p.unsynced >= p.opts.Sync.EveryRecords {
			p.unsynced = 0
			select {
			case p.flushKick <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// shouldRoll says whether the batch must go to a new segment: the active one is not
// empty and the batch would make it too big, it is too old, or an index or a 32-bit
// relative offset has no room.
func (p *Partition) shouldRoll(active *segment.Segment, h *segment.BatchHeader, size int) bool {
	if active.Size() == 0 {
		return false
	}
	return active.Size()+int64(size) > p.opts.SegmentBytes ||
		p.opts.Now().Sub(p.activeSince) >= p.opts.SegmentAge ||
		!active.Fits(h.LastOffset(), size)
}

// rollLocked seals the active segment (fsyncing it and its indexes), creates a new
// one at base, makes the new file durable in the directory, records the recovery
// point, and applies retention.
func (p *Partition) rollLocked(base int64) (*segment.Segment, error) {
	if err := p.markDirtyLocked(); err != nil {
		return nil, err
	}
	s, old, err := p.sealAndCreate(base)
	if err != nil {
		return nil, err
	}
	p.mu.RLock()
	start := p.mu.start
	p.mu.RUnlock()
	p.activeSince = p.opts.Now()
	p.logger.Debug("rolled segment", "base", base)
	p.mapSealed(old)
	if hook := p.opts.Hooks.OnRoll; hook != nil {
		hook(RollEvent{BaseOffset: base})
	}
	p.newestBase.Store(base)
	if err := p.writeRecoveryPoint(start, base); err != nil {
		return nil, err
	}
	p.takeSnapshotLocked(base)
	if _, err := p.applyRetentionLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// sealAndCreate seals the active segment and makes a new one at base the active
// segment. It holds syncSem: the Seal's fsync must not race a group commit's fsync of
// the same file, for after a failed fsync a second one can report success although
// the data is gone (fsyncgate). Nothing is marked durable on a failed partition.
func (p *Partition) sealAndCreate(base int64) (s, old *segment.Segment, err error) {
	p.syncSem <- struct{}{}
	defer func() { <-p.syncSem }()
	p.mu.RLock()
	old, err = p.mu.segments[len(p.mu.segments)-1], p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return nil, nil, err
	}
	if err := old.Seal(); err != nil {
		return nil, nil, p.fail(err)
	}
	if s, err = segment.Create(p.fsys, p.dir, base, p.segmentOptions(base)); err != nil {
		return nil, nil, p.fail(err)
	}
	if err := p.fsys.SyncDir(p.dir); err != nil {
		s.Close()
		return nil, nil, p.fail(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usableLocked(); err != nil {
		s.Close()
		return nil, nil, err
	}
	p.mu.segments = append(p.mu.segments, s)
	p.mu.written = mark{offset: base, seg: s, pos: 0}
	if base > p.mu.durable {
		p.mu.durable = base
		p.acknowledgeLocked(mark{offset: base, seg: old, pos: old.Size()})
	}
	return s, old, nil
}

// mapSealed maps a sealed segment for reads. Failing to map costs speed, not
// correctness (reads fall back to the file), so it is only logged.
func (p *Partition) mapSealed(s *segment.Segment) {
	_ = s.MapForReads() // its error is the one reportMapError takes
	p.reportMapError(s)
}

// reportMapError logs, once per segment, that s could not be mapped and is read
// through the file (past vm.max_map_count, for one).
func (p *Partition) reportMapError(s *segment.Segment) {
	if err := s.TakeMapError(); err != nil {
		p.logger.Warn("cannot map segment; reading it through the file", "file", s.Path(), "err", err)
	}
}

// writeRecoveryPoint checkpoints the recovery point (not a clean shutdown).
func (p *Partition) writeRecoveryPoint(start, recoveryPoint int64) error {
	p.mu.RLock()
	segments := p.mu.segments
	p.mu.RUnlock()
	if err := p.writeCheckpoint(p.openCheckpoint(start, recoveryPoint, segments)); err != nil {
		return p.fail(err)
	}
	p.recoveryPoint, p.clean = recoveryPoint, false
	return nil
}
