package partition

import (
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// ApplyRetention deletes the sealed segments that retention no longer keeps and
// returns how many it deleted: segments whose newest record is older than
// RetentionAge, the oldest segments while the rest would still hold RetentionBytes,
// and segments wholly below the log start offset. Only whole sealed segments go, never
// the active one, and never a record readers cannot see yet. The log start offset is
// raised (and checkpointed) before any file is removed. Appends roll segments and
// apply retention on their own; call ApplyRetention to apply an age limit to a
// partition that receives no appends.
func (p *Partition) ApplyRetention() (int, error) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.mu.RLock()
	err := p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return 0, err
	}
	return p.applyRetentionLocked()
}

// DeleteRecordsBefore makes offset the log start offset: records below it can no
// longer be read, and segments wholly below it are deleted. The new start offset is
// checkpointed before DeleteRecordsBefore returns, so it survives a crash. offset must
// lie between the start offset and the end offset (ErrOffsetOutOfRange otherwise);
// an offset at or below the start offset changes nothing.
func (p *Partition) DeleteRecordsBefore(offset int64) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.mu.RLock()
	err := p.usableLocked()
	start, end := p.mu.start, p.mu.committed.offset
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if offset > end || offset < 0 {
		return errorf("strata/partition: delete records before %d: end offset is %d: %w", offset, end, errs.ErrOffsetOutOfRange)
	}
	if offset <= start {
		return nil
	}
	if err := p.writeRecoveryPoint(offset, p.recoveryPoint); err != nil {
		return err
	}
	p.mu.Lock()
	p.mu.start = offset
	p.wakeWaitersLocked() // the last stable offset is at least the start offset
	p.mu.Unlock()
	if err := p.truncateEpochsFromStartLocked(offset); err != nil {
		return err
	}
	_, err = p.applyRetentionLocked()
	return err
}

// applyRetentionLocked deletes what retention and the start offset no longer keep.
func (p *Partition) applyRetentionLocked() (int, error) {
	p.mu.RLock()
	segments, start, committed := p.mu.segments, p.mu.start, p.mu.committed.offset
	p.mu.RUnlock()
	p.expireProducersLocked()
	doomed := p.expired(segments, start, committed)
	if doomed == 0 {
		return 0, nil
	}
	if err := p.markDirtyLocked(); err != nil {
		return 0, err
	}
	newStart := max(start, segments[doomed].Base())
	if newStart != start {
		if err := p.writeRecoveryPoint(newStart, p.recoveryPoint); err != nil {
			return 0, err
		}
	}
	if err := p.truncateEpochsFromStartLocked(newStart); err != nil { // before syncSem: epochsMu is never held with it
		return 0, err
	}
	// Wait for a running fsync: it may be syncing a segment about to be deleted.
	p.syncSem <- struct{}{}
	defer func() { <-p.syncSem }()
	p.mu.Lock()
	p.mu.start = newStart
	p.mu.segments = append([]*segment.Segment(nil), segments[doomed:]...)
	p.wakeWaitersLocked() // the last stable offset is at least the start offset
	p.mu.Unlock()
	for _, s := range segments[:doomed] {
		if err := s.Remove(); err != nil {
			return 0, p.fail(err)
		}
		p.logger.Info("deleted segment", "base", s.Base(), "start-offset", newStart)
	}
	if err := p.fsys.SyncDir(p.dir); err != nil {
		return 0, p.fail(err)
	}
	p.pruneSnapshotsLocked()
	if hook := p.opts.Hooks.OnRetention; hook != nil {
		hook(RetentionEvent{SegmentsDeleted: doomed, StartOffset: newStart})
	}
	return doomed, nil
}

// expired returns how many of the oldest segments retention deletes.
func (p *Partition) expired(segments []*segment.Segment, start, committed int64) int {
	var total int64
	for _, s := range segments {
		total += s.Size()
	}
	cutoff := int64(-1)
	if p.opts.RetentionAge > 0 {
		cutoff = p.opts.Now().Add(-p.opts.RetentionAge).UnixMilli()
	}
	n := 0
	for ; n < len(segments)-1; n++ { // never the active segment
		s := segments[n]
		if s.NextOffset() > committed {
			break // holds records readers cannot see yet
		}
		belowStart := segments[n+1].Base() <= start
		tooOld := cutoff >= 0 && s.MaxTimestamp() < cutoff
		tooBig := p.opts.RetentionBytes > 0 && total-s.Size() >= p.opts.RetentionBytes
		if !belowStart && !tooOld && !tooBig {
			break
		}
		total -= s.Size()
	}
	return n
}
