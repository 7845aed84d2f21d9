package partition

import (
	"context"
	"fmt"
	"math"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// AppendReplica appends batches copied from a leader's log (what the leader's
// FetchReplica returned), keeping their offsets and leader epochs: a follower must
// not renumber, or the gaps a compacted leader left would diverge. It verifies each
// batch (length, magic, CRC), and that the batches follow each other and begin at or
// above the written offset; a gap (where the leader's compaction removed offsets)
// makes the segments from here on accept gaps. A batch carrying a leader epoch above
// the latest known records it in the leader epoch cache, durably, before the batch is
// written. It returns the new written offset once the batches are acknowledged under
// the sync policy (fsynced under SyncEveryAppend). Invalid input is ErrInvalidArgument
// and writes nothing.
func (p *Partition) AppendReplica(ctx context.Context, batches []byte) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p.appendMu.Lock()
	end, gapped, err := p.checkReplicaBatches(batches)
	if err == nil && gapped {
		err = p.allowGapsLocked(end)
	}
	if err == nil {
		err = p.writeReplicaBatchesLocked(batches)
	}
	if err != nil || p.opts.Sync.Mode != SyncEveryAppend {
		p.appendMu.Unlock()
		return end, err
	}
	p.inFlight.Add(1)
	p.appendMu.Unlock()
	defer p.inFlight.Done()
	return end, p.syncTo(ctx, end)
}

// checkReplicaBatches verifies batches against the written offset and returns the
// offset after the last and whether any begins above the offset after the one
// before. The caller holds appendMu.
func (p *Partition) checkReplicaBatches(batches []byte) (end int64, gapped bool, err error) {
	p.mu.RLock()
	next, err := p.mu.written.offset, p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return 0, false, err
	}
	if len(batches) == 0 {
		return next, false, nil
	}
	latest, err := p.latestEpochLocked()
	if err != nil {
		return 0, false, err
	}
	for pos := 0; pos < len(batches); {
		h, err := segment.ParseBatchHeader(batches[pos:], p.storedMax)
		if err == nil && h.Size() > len(batches)-pos {
			err = fmt.Errorf("batch of %d bytes, %d left", h.Size(), len(batches)-pos)
		}
		if err == nil {
			h, err = segment.VerifyBatch(batches[pos:pos+h.Size()], p.storedMax)
		}
		switch {
		case err != nil:
			return 0, false, errorf("strata/partition: replicated batch at byte %d: %w (%w)", pos, err, errs.ErrInvalidArgument)
		case h.BaseOffset < next:
			return 0, false, errorf("strata/partition: replicated batch at offset %d below the next offset %d: %w", h.BaseOffset, next, errs.ErrInvalidArgument)
		case h.LastOffset()-next > math.MaxInt32:
			// A segment holds offsets up to 2^31-1 above its base, and the segment a
			// batch lands in begins at or below the end of the batch before.
			return 0, false, errorf("strata/partition: replicated batch at offset %d, %d offsets above the next offset %d: more than one segment can span: %w", h.BaseOffset, h.BaseOffset-next, next, errs.ErrInvalidArgument)
		case h.PartitionLeaderEpoch < latest:
			return 0, false, errorf("strata/partition: replicated batch at offset %d has leader epoch %d, below %d: %w", h.BaseOffset, h.PartitionLeaderEpoch, latest, errs.ErrInvalidArgument)
		}
		gapped = gapped || h.BaseOffset > next
		next, latest = h.NextOffset(), h.PartitionLeaderEpoch
		pos += h.Size()
	}
	return next, gapped, nil
}

// latestEpochLocked loads the leader epoch cache and returns its latest epoch, or
// NoEpoch. The caller holds appendMu.
func (p *Partition) latestEpochLocked() (int32, error) {
	p.epochsMu.Lock()
	defer p.epochsMu.Unlock()
	cache, err := p.loadEpochsLocked()
	if err != nil {
		return NoEpoch, err
	}
	if e, ok := cache.latest(); ok {
		return e.Epoch, nil
	}
	return NoEpoch, nil
}

// allowGapsLocked makes every segment based below end accept gaps, durably (the
// cleaner checkpoint's bound of gaps), the active one included. The caller holds
// appendMu.
func (p *Partition) allowGapsLocked(end int64) error {
	c := p.cleanerCheckpoint()
	if c.gapsBelow < end {
		c.gapsBelow = end
		if err := p.storeCleanerCheckpoint(c); err != nil {
			return p.fail(err)
		}
	}
	p.mu.RLock()
	active := p.mu.written.seg
	p.mu.RUnlock()
	active.AllowGaps()
	return nil
}

// writeReplicaBatchesLocked writes checked batches, recording each new leader epoch
// before its first batch. The caller holds appendMu.
func (p *Partition) writeReplicaBatchesLocked(batches []byte) error {
	for pos := 0; pos < len(batches); {
		h, err := segment.ParseBatchHeader(batches[pos:], p.storedMax)
		if err != nil {
			return err // checked already
		}
		batch := batches[pos : pos+h.Size()]
		if err := p.recordEpochLocked(&h); err != nil {
			return err
		}
		if err := p.writeBatchLocked(batch, &h); err != nil {
			return err
		}
		pos += h.Size()
	}
	return nil
}

// recordEpochLocked records the epoch of a replicated batch in the leader epoch
// cache if it is new. The caller holds appendMu.
func (p *Partition) recordEpochLocked(h *segment.BatchHeader) error {
	if h.PartitionLeaderEpoch < 0 {
		return nil
	}
	p.epochsMu.Lock()
	defer p.epochsMu.Unlock()
	cache, err := p.loadEpochsLocked()
	if err != nil {
		return err
	}
	if last, ok := cache.latest(); ok && last.Epoch >= h.PartitionLeaderEpoch {
		return nil
	}
	if err := p.assignEpochLocked(cache, EpochEntry{Epoch: h.PartitionLeaderEpoch, StartOffset: h.BaseOffset}); err != nil {
		return err
	}
	p.epochs.stamp = h.PartitionLeaderEpoch
	return nil
}

// FetchReplica appends to dst whole batches from offset, at most maxBytes of them
// (at least one batch), as ReadBatches does but up to the written offset rather than
// the high watermark: what a leader serves its followers. Batches above the high
// watermark may still be truncated away.
func (p *Partition) FetchReplica(dst []byte, offset int64, maxBytes int) ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s, pos, n, first, err := p.findBatchesBelowLocked(offset, maxBytes, p.mu.written)
	if err != nil || s == nil {
		return dst, err
	}
	return p.readWhole(dst, s, pos, n, first, offset)
}

// FetchReplicaView is FetchReplica without a copy where the segment can be mapped
// (the OS filesystem on Linux): the batches are a view of the segment's read-only
// memory mapping, valid while the caller keeps keep reachable (retention, truncation
// or Close cannot unmap it meanwhile). Where it cannot map, it returns a copy and keep
// is nil. The caller must not modify the bytes.
func (p *Partition) FetchReplicaView(offset int64, maxBytes int) (batches []byte, keep any, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	b, m, err := p.fetchBatchesBelowLocked(nil, offset, maxBytes, p.mu.written)
	if m == nil {
		return b, nil, err
	}
	return b, m, err
}
