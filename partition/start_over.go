package partition

import (
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// TruncateFullyAndStartAt empties the log and restarts it, empty, at offset: the
// start, log end and high watermark all become offset. It is Kafka's
// truncateFullyAndStartAt, for a follower whose log ends below its leader's log start
// offset (the leader's retention removed what the follower lacks): it cannot catch up
// by fetching and starts over at the leader's start. offset must be at or above the
// written offset, or the log must be empty (ErrOffsetOutOfRange otherwise): nothing
// is lost that a reader could still fetch from the leader. An empty log may start
// over lower: at the base of the leader's first batch, when the leader's log start
// offset lies inside it (DeleteRecords moves it anywhere).
//
// Every crash point leaves a log that Open accepts: the checkpoint moves the start
// offset first, naming no newest segment (the new one does not exist yet, and Open
// makes it at the start offset if a crash comes first), then the old segments go,
// newest first, then the new one is made.
func (p *Partition) TruncateFullyAndStartAt(offset int64) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.inFlight.Wait()
	if err := p.startOver(offset); err != nil {
		return err
	}
	if err := p.dropSnapshotsLocked(); err != nil {
		return err
	}
	// Then the epochs: a crash before leaves entries that loading trims to the
	// empty log; emptied first, they would say nothing of batches a crash kept.
	return p.resetEpochsLocked()
}

// startOver is TruncateFullyAndStartAt but for the leader epochs, holding syncSem
// (epochsMu is never held with it). The caller holds appendMu.
func (p *Partition) startOver(offset int64) error {
	p.syncSem <- struct{}{}
	defer func() { <-p.syncSem }()
	p.mu.RLock()
	start, written, err := p.mu.start, p.mu.written.offset, p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if offset < 0 || (offset < written && start != written) {
		return errorf("strata/partition: start over at %d, below the written offset %d: %w", offset, written, errs.ErrOffsetOutOfRange)
	}
	if err := p.markDirtyLocked(); err != nil {
		return err
	}
	return p.startOverLocked(offset)
}

// startOverLocked is TruncateFullyAndStartAt's change of the segments and marks.
// The caller holds appendMu and syncSem.
func (p *Partition) startOverLocked(offset int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usableLocked(); err != nil {
		return err
	}
	p.cleaner.truncations.Add(1) // a running compaction gives up
	segments := p.mu.segments
	if err := p.writeCheckpoint(checkpoint{logStartOffset: offset, recoveryPoint: offset, newestSegment: -1, hasManifest: true}); err != nil {
		return p.failLocked(err)
	}
	p.recoveryPoint = offset
	p.mu.start = offset
	for i := len(segments) - 1; i >= 0; i-- {
		if err := segments[i].Remove(); err != nil {
			return p.failLocked(err)
		}
	}
	p.mu.segments = nil
	s, err := segment.Create(p.fsys, p.dir, offset, p.denseOpts)
	if err != nil {
		return p.failLocked(err)
	}
	p.mu.segments = []*segment.Segment{s}
	p.newestBase.Store(offset)
	if err := p.fsys.SyncDir(p.dir); err != nil {
		return p.failLocked(err)
	}
	m := mark{offset: offset, seg: s, pos: 0}
	p.mu.written, p.mu.acked, p.mu.committed, p.mu.durable = m, m, m, offset
	p.activeSince = p.opts.Now()
	if err := p.storeCleanerCheckpoint(cleanerCheckpoint{point: offset, gapsBelow: offset}); err != nil {
		return p.failLocked(err)
	}
	p.wakeWaitersLocked()
	return nil
}

// resetEpochsLocked empties the leader epoch cache and its file, durably: the log
// holds no batch. The caller holds appendMu.
func (p *Partition) resetEpochsLocked() error {
	p.epochsMu.Lock()
	defer p.epochsMu.Unlock()
	if err := writeLeaderEpochs(p.fsys, p.dir, nil); err != nil {
		return p.fail(err)
	}
	p.epochs.cache = &leaderEpochs{}
	return nil
}
