package partition

import (
	"sort"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// TruncateTo removes every batch holding an offset >= offset, durably, and returns
// the new end offset. Batches are never split: a batch that straddles offset is
// removed whole, so the new end offset may be below offset (replicas truncate at
// batch boundaries, where leader epochs change); if that would cut below the start
// offset, the log is emptied and restarts at the start offset. offset must lie between the start
// offset and the written offset (ErrOffsetOutOfRange otherwise). Readers past the new
// end get ErrOffsetOutOfRange.
//
// An owner that records DurableOffset outside the directory (Options.RecoveryPoint)
// must lower its record, durably, before calling TruncateTo, to no more than the new
// end offset (which may lie below offset: dropping the record is simplest), and
// record nothing higher until TruncateTo returns: a recorded point above the new end
// would make the next Open after a crash report the removed records as missing. A
// TruncateTo that fails leaves DurableOffset at most where the log may now end.
func (p *Partition) TruncateTo(offset int64) (int64, error) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	if err := p.readProducersLocked(); err != nil {
		return 0, err
	}
	before, written := p.producers, p.WrittenOffset() // stable: appendMu is held
	end, err := p.truncateLocked(offset)
	if err != nil {
		return 0, err
	}
	if end < written {
		// Rebuilt as after a crash, then completed with what the state knew of the
		// batches left (keepBelow).
		if err := p.loadProducersLocked(false); err != nil {
			return 0, p.fail(err)
		}
		p.producers.keepBelow(before, end)
		p.publishTransactionsLocked()
	}
	return end, p.truncateEpochsLocked(end)
}

// truncateLocked is TruncateTo for a caller holding appendMu, leaving the leader
// epoch cache alone.
func (p *Partition) truncateLocked(offset int64) (int64, error) {
	// Let appends already written finish (they need only syncSem): each is then
	// acknowledged before the truncation, or fails, never acknowledged after its batch
	// was removed.
	p.inFlight.Wait()
	p.syncSem <- struct{}{}
	defer func() { <-p.syncSem }()
	p.mu.RLock()
	start, written, err := p.mu.start, p.mu.written.offset, p.usableLocked() // stable: appendMu is held
	p.mu.RUnlock()
	if err != nil {
		return 0, err
	}
	if offset < start || offset > written {
		return 0, errorf("strata/partition: truncate to %d: not in [%d, %d]: %w", offset, start, written, errs.ErrOffsetOutOfRange)
	}
	if offset == written {
		return offset, nil
	}
	if err := p.markDirtyLocked(); err != nil { // before any file changes; bad input changes nothing
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usableLocked(); err != nil {
		return 0, err
	}
	p.cleaner.truncations.Add(1) // a running compaction gives up
	segments := p.mu.segments
	// Keep at least one segment: the one holding offset (or the first).
	keep := max(sort.Search(len(segments), func(i int) bool { return segments[i].Base() > offset }), 1)
	last := segments[keep-1]
	// Every crash point must leave a log that Open accepts: first the recovery point
	// comes down to where the log may end (the kept segment's base: the batch
	// straddling offset goes whole), then the later segments go, newest first (a
	// crash leaves a prefix of the log), durably, and only then is the kept one cut.
	p.newestBase.Store(last.Base())
	// Nothing above the kept segment's base is sure to survive from here on, even if
	// a step below fails (the partition then fails closed): DurableOffset must not
	// say otherwise, or an owner would record it again above the log left on disk.
	p.mu.durable = min(p.mu.durable, last.Base())
	if lower := min(p.recoveryPoint, last.Base()); lower < p.recoveryPoint || keep < len(segments) {
		if err := p.writeCheckpoint(checkpoint{logStartOffset: p.mu.start, recoveryPoint: lower, newestSegment: last.Base(), manifest: manifestOf(segments[:keep-1])}); err != nil {
			return 0, p.failLocked(err)
		}
		p.recoveryPoint = lower
	}
	for i := len(segments) - 1; i >= keep; i-- {
		if err := segments[i].Remove(); err != nil {
			return 0, p.failLocked(err)
		}
	}
	p.mu.segments = segments[:keep]
	if keep < len(segments) {
		if err := p.fsys.SyncDir(p.dir); err != nil {
			return 0, p.failLocked(err)
		}
	}
	if err := last.TruncateTo(offset); err != nil {
		return 0, p.failLocked(err)
	}
	end := last.NextOffset()
	if end < p.mu.start {
		// The batch straddling offset began below the start offset: what is left
		// lies wholly below the start. Start over empty at the start offset, as
		// Kafka's truncateFullyAndStartAt does; no readable record is lost.
		for _, s := range p.mu.segments { // all wholly below the start offset
			if err := s.Remove(); err != nil {
				return 0, p.failLocked(err)
			}
		}
		fresh, err := segment.Create(p.fsys, p.dir, p.mu.start, p.segmentOptions(p.mu.start))
		if err != nil {
			return 0, p.failLocked(err)
		}
		last = fresh
		p.newestBase.Store(last.Base())
		p.mu.segments = []*segment.Segment{last}
		end = p.mu.start
	}
	if err := p.fsys.SyncDir(p.dir); err != nil {
		return 0, p.failLocked(err)
	}
	m := mark{offset: end, seg: last, pos: last.Size()}
	p.mu.written, p.mu.durable = m, end
	if p.mu.committed.offset > end {
		p.mu.committed = m
	}
	if p.mu.acked.offset > end {
		p.mu.acked = m
	}
	p.acknowledgeLocked(m)
	p.notifyLocked()
	if err := p.lowerCleanerPoint(end); err != nil {
		return 0, p.failLocked(err)
	}
	if end < p.recoveryPoint {
		if err := p.writeCheckpoint(checkpoint{logStartOffset: p.mu.start, recoveryPoint: end, newestSegment: last.Base(), manifest: sealedOf(p.mu.segments)}); err != nil {
			return 0, p.failLocked(err)
		}
		p.recoveryPoint = end
	}
	return end, nil
}

// failLocked is fail for a caller holding mu.
func (p *Partition) failLocked(err error) error {
	if p.mu.err == nil && !p.mu.closed {
		p.mu.err = errorf("strata/partition: %s failed closed: %w", p.dir, err)
		p.logger.Error("partition failed closed", "err", err)
		p.wakeWaitersLocked()
	}
	if p.mu.err != nil {
		return p.mu.err
	}
	return err
}
