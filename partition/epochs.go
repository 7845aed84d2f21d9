package partition

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// Leader epochs in a partition. Append and AppendBatch stamp every batch with the
// partition's leader epoch: 0 until the owner (the replica layer, when this replica
// becomes leader) calls AssignEpoch. AppendReplica keeps the leader's epochs. The
// leader epoch cache (leader_epochs.go) is loaded at its first use, not at Open, so
// that opening many partitions reads no extra file: an owner that never assigns an
// epoch above 0 and never asks about epochs never loads it, and never writes the
// file. Loading checks the file against the log (the first batch of each epoch's
// range must carry that epoch) and rebuilds it from the batch headers when it is
// missing or does not hold.
//
// The file is written before the first batch of a new epoch, so it is never behind
// the log; after a crash it may be ahead (an epoch whose batches were never fsynced),
// and loading drops the entries at or above the log end offset.
//
// A partition whose directory held the file at Open loads it before its first
// append, and before AssignEpoch or LeaderEpoch answer: loading makes the latest
// epoch the log knows the one appends stamp, and a reopened partition must not stamp
// 0 after batches of a later epoch (a follower refuses a batch whose epoch went down)
// nor take AssignEpoch(0) from a stale leader. Only a partition without the file, one
// that never knew an epoch above 0, appends without loading it.

// epochState is the partition's leader epoch state, guarded by the partition's
// epochsMu. Lock order: appendMu, then epochsMu, then mu.
type epochState struct {
	// stamp is the epoch appends stamp; written under appendMu and epochsMu, so
	// that a holder of either may read it.
	stamp int32
	// cache is nil until loaded.
	cache *leaderEpochs
	// onDisk says that the directory held LeaderEpochCheckpointFile at Open: the
	// cache must be loaded before the stamp is used. Set by Open only.
	onDisk bool
}

// LeaderEpoch returns the epoch that appends stamp in their batches.
func (p *Partition) LeaderEpoch() int32 {
	p.epochsMu.Lock()
	if p.epochs.cache != nil || !p.epochs.onDisk {
		defer p.epochsMu.Unlock()
		return p.epochs.stamp
	}
	p.epochsMu.Unlock()
	if _, err := p.epochCache(); err != nil {
		// Not loaded (the partition is closed or failed, or the file cannot be
		// read): appends fail the same way, and stamp nothing.
		p.epochsMu.Lock()
	}
	defer p.epochsMu.Unlock()
	return p.epochs.stamp
}

// stampLocked returns the epoch to stamp in a batch appended at base, after loading
// the leader epoch cache if the partition has one, and recording the epoch in it if
// it is new there, durably, before the batch carries it: epoch 0 appended after the
// cache was loaded empty, or the stamp again after TruncateTo dropped the entry where
// it began. The caller holds appendMu.
func (p *Partition) stampLocked(base int64) (int32, error) {
	if p.epochs.cache == nil && !p.epochs.onDisk {
		return p.epochs.stamp, nil // no epoch above 0 was ever known: nothing to load
	}
	p.epochsMu.Lock()
	defer p.epochsMu.Unlock()
	cache, err := p.loadEpochsLocked()
	if err != nil {
		return 0, err
	}
	if last, ok := cache.latest(); !ok || last.Epoch < p.epochs.stamp {
		if err := p.assignEpochLocked(cache, EpochEntry{Epoch: p.epochs.stamp, StartOffset: base}); err != nil {
			return 0, err
		}
	}
	return p.epochs.stamp, nil
}

// AssignEpoch makes epoch the leader epoch of this replica's appends from now on,
// as a replica that becomes leader does: the leader epoch cache records that epoch
// begins at the log end offset, durably, before any batch carries it (Kafka's
// leader assigns its epoch at election, so that it can answer followers holding
// epochs it never wrote). An epoch below the latest the partition knows is
// ErrInvalidArgument (a stale leader) and changes nothing; the current epoch again
// changes nothing.
func (p *Partition) AssignEpoch(epoch int32) error {
	if epoch < 0 {
		return errorf("strata/partition: leader epoch %d: %w", epoch, errs.ErrInvalidArgument)
	}
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.epochsMu.Lock()
	defer p.epochsMu.Unlock()
	if p.epochs.cache == nil && !p.epochs.onDisk && epoch == p.epochs.stamp && !p.replicated.Load() {
		// The only replica, at epoch 0, that never knew another: nothing to record.
		return nil
	}
	cache, err := p.loadEpochsLocked()
	if err != nil {
		// Sticky, as a failed write of the checkpoint is: the replica layer takes
		// a failed AssignEpoch for a failed disk when the log says so, and would
		// otherwise keep a leader that does not lead.
		return p.fail(err)
	}
	if last, ok := cache.latest(); ok && epoch < last.Epoch {
		return errorf("strata/partition: leader epoch %d below the latest known, %d: %w", epoch, last.Epoch, errs.ErrInvalidArgument)
	}
	p.mu.RLock()
	written := p.mu.written.offset
	p.mu.RUnlock()
	if err := p.assignEpochLocked(cache, EpochEntry{Epoch: epoch, StartOffset: written}); err != nil {
		return err
	}
	p.epochs.stamp = epoch
	return nil
}

// assignEpochLocked records e in the cache and, if it changed, in the file. The
// caller holds appendMu and epochsMu.
func (p *Partition) assignEpochLocked(cache *leaderEpochs, e EpochEntry) error {
	saved := slices.Clone(cache.entries)
	changed, err := cache.assign(e)
	if err != nil || !changed {
		return err
	}
	if err := writeLeaderEpochs(p.fsys, p.dir, cache.entries); err != nil {
		cache.entries = saved
		return p.fail(err)
	}
	return nil
}

// truncateEpochsLocked drops the cache's entries at or above end, durably, after
// TruncateTo cut the log there. A cache not loaded yet is checked against the log
// when it is. The caller holds appendMu.
func (p *Partition) truncateEpochsLocked(end int64) error {
	p.epochsMu.Lock()
	defer p.epochsMu.Unlock()
	cache := p.epochs.cache
	if cache == nil || !cache.truncateFromEnd(end) {
		return nil
	}
	if err := writeLeaderEpochs(p.fsys, p.dir, cache.entries); err != nil {
		return p.fail(err)
	}
	return nil
}

// truncateEpochsFromStartLocked moves a loaded cache's start to the log start
// offset, durably (Kafka's truncateFromStart): the epoch holding start begins there.
// A cache not loaded yet is moved when it is. The caller holds appendMu.
func (p *Partition) truncateEpochsFromStartLocked(start int64) error {
	p.epochsMu.Lock()
	defer p.epochsMu.Unlock()
	cache := p.epochs.cache
	if cache == nil || !cache.truncateFromStart(start) {
		return nil
	}
	if err := writeLeaderEpochs(p.fsys, p.dir, cache.entries); err != nil {
		return p.fail(err)
	}
	return nil
}

// EndOffsetForEpoch answers Kafka's OffsetForLeaderEpoch: the greatest epoch at or
// below epoch that wrote to this log (or epoch itself when it lies below every known
// one) and the offset where it ended, the start of the next known epoch (the log end
// offset, for the latest). A follower truncates its log there. An epoch above every
// known one, or NoEpoch, answers (NoEpoch, NoOffset).
func (p *Partition) EndOffsetForEpoch(epoch int32) (int32, int64, error) {
	cache, err := p.epochCache()
	if err != nil {
		return NoEpoch, NoOffset, err
	}
	defer p.epochsMu.Unlock()
	p.mu.RLock()
	written := p.mu.written.offset
	p.mu.RUnlock()
	e, end := cache.endOffsetFor(epoch, written)
	return e, end, nil
}

// LatestEpoch returns the latest leader epoch that wrote to this log, or that this
// replica assigned itself, and where it began; ok is false for a log that knows none.
func (p *Partition) LatestEpoch() (entry EpochEntry, ok bool, err error) {
	cache, err := p.epochCache()
	if err != nil {
		return EpochEntry{}, false, err
	}
	defer p.epochsMu.Unlock()
	entry, ok = cache.latest()
	return entry, ok, nil
}

// Epochs returns a copy of the leader epoch cache: each epoch that wrote to this log
// and its start offset, in order.
func (p *Partition) Epochs() ([]EpochEntry, error) {
	cache, err := p.epochCache()
	if err != nil {
		return nil, err
	}
	defer p.epochsMu.Unlock()
	return append([]EpochEntry(nil), cache.entries...), nil
}

// epochCache returns the loaded cache with epochsMu held (the caller unlocks it).
func (p *Partition) epochCache() (*leaderEpochs, error) {
	p.epochsMu.Lock()
	if p.epochs.cache != nil {
		return p.epochs.cache, nil
	}
	p.epochsMu.Unlock()
	// Loading reads the log up to its end: appends wait meanwhile.
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.epochsMu.Lock()
	cache, err := p.loadEpochsLocked()
	if err != nil {
		p.epochsMu.Unlock()
		return nil, err
	}
	return cache, nil
}

// loadEpochsLocked loads the cache if it is not loaded yet. The caller holds
// appendMu and epochsMu.
func (p *Partition) loadEpochsLocked() (*leaderEpochs, error) {
	if p.epochs.cache != nil {
		return p.epochs.cache, nil
	}
	p.mu.RLock()
	start, written, err := p.mu.start, p.mu.written.offset, p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	entries, found, err := readLeaderEpochs(p.fsys, p.dir)
	var corrupt *errs.CorruptError
	if err != nil && !errors.As(err, &corrupt) {
		return nil, err
	}
	cache := &leaderEpochs{entries: entries}
	cache.truncateFromEnd(written)
	cache.truncateFromStart(start)
	if err == nil && found {
		if why := p.checkEpochs(cache.entries); why != "" {
			p.logger.Warn("leader epoch checkpoint does not match the log: rebuilding it from the batches", "why", why)
			found = false
		}
	} else if err != nil {
		p.logger.Warn("damaged leader epoch checkpoint: rebuilding it from the batches", "err", err)
	}
	if !found {
		if cache.entries, err = p.scanEpochs(); err != nil {
			return nil, err
		}
		if len(cache.entries) > 0 {
			if err := writeLeaderEpochs(p.fsys, p.dir, cache.entries); err != nil {
				return nil, p.fail(err)
			}
		}
	}
	if last, ok := cache.latest(); ok && last.Epoch > p.epochs.stamp {
		p.epochs.stamp = last.Epoch
	}
	p.epochs.cache = cache
	return cache, nil
}

// checkEpochs checks entries against the log: each entry's range must begin with a
// batch of its epoch, and where a batch ends just below the entry's start, that
// batch must carry the epoch before (none, NoEpoch, below the first entry), so that
// an entry neither starts late nor hides an epoch the batches hold. It returns why
// they do not hold, or "".
func (p *Partition) checkEpochs(entries []EpochEntry) string {
	p.mu.RLock()
	start := p.mu.start
	p.mu.RUnlock()
	for i, e := range entries {
		end := int64(-1)
		if i+1 < len(entries) {
			end = entries[i+1].StartOffset
		}
		h, found, err := p.firstBatchFrom(e.StartOffset)
		if err != nil {
			return err.Error()
		}
		if found && (end < 0 || h.BaseOffset < end) && h.PartitionLeaderEpoch != e.Epoch {
			return fmt.Sprintf("epoch %d begins at offset %d, but the batch at offset %d has epoch %d", e.Epoch, e.StartOffset, h.BaseOffset, h.PartitionLeaderEpoch)
		}
		// (No batch of the epoch left: compacted away, or none written.)
		if e.StartOffset <= start {
			continue // the epoch holding the start offset begins there
		}
		before := NoEpoch
		if i > 0 {
			before = entries[i-1].Epoch
		}
		h, found, err = p.firstBatchFrom(e.StartOffset - 1)
		switch {
		case err != nil:
			return err.Error()
		case !found || h.BaseOffset >= e.StartOffset:
			// No batch ends just below it (compaction removed it): nothing to check.
		case h.LastOffset() >= e.StartOffset:
			return fmt.Sprintf("epoch %d begins at offset %d, inside the batch of offsets %d to %d", e.Epoch, e.StartOffset, h.BaseOffset, h.LastOffset())
		case h.PartitionLeaderEpoch != before:
			return fmt.Sprintf("epoch %d begins at offset %d, but the batch before, at offset %d, has epoch %d, not %d", e.Epoch, e.StartOffset, h.BaseOffset, h.PartitionLeaderEpoch, before)
		}
	}
	return ""
}

// firstBatchFrom returns the header of the first written batch whose last offset is
// at or above offset.
func (p *Partition) firstBatchFrom(offset int64) (segment.BatchHeader, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	segments := p.mu.segments
	i := max(sort.Search(len(segments), func(i int) bool { return segments[i].Base() > offset })-1, 0)
	for ; i < len(segments); i++ {
		s := segments[i]
		end := s.Size()
		if s == p.mu.written.seg {
			end = p.mu.written.pos
		}
		_, h, found, err := s.Find(offset, end)
		if err != nil || found {
			return h, found, err
		}
	}
	return segment.BatchHeader{}, false, nil
}

// scanEpochs rebuilds the cache from the batch headers of the whole log, as Kafka
// does when the checkpoint is missing: each batch with a leader epoch above the
// previous ones starts an entry. Batches without an epoch (-1) start none.
func (p *Partition) scanEpochs() ([]EpochEntry, error) {
	p.mu.RLock()
	start := p.mu.start
	p.mu.RUnlock()
	var cache leaderEpochs
	for next := start; ; {
		h, found, err := p.firstBatchFrom(next)
		if err != nil {
			return nil, err
		}
		if !found {
			return cache.entries, nil
		}
		if last, ok := cache.latest(); h.PartitionLeaderEpoch >= 0 && (!ok || h.PartitionLeaderEpoch > last.Epoch) {
			cache.entries = append(cache.entries, EpochEntry{Epoch: h.PartitionLeaderEpoch, StartOffset: max(h.BaseOffset, start)})
		}
		next = h.NextOffset()
	}
}
