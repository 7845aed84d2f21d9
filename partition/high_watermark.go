package partition

import (
	"sort"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// A partition keeps three offsets apart:
//
//   - the log end offset (WrittenOffset): the end of what is written to the OS;
//   - the acknowledged offset (AcknowledgedOffset): the end of what the sync policy
//     acknowledged here, fsynced under SyncEveryAppend, written under the others;
//   - the high watermark (HighWatermark, also EndOffset): the end of what readers
//     see.
//
// A partition that is its own only replica lets readers see everything acknowledged:
// the high watermark is the acknowledged offset. A Replicated partition leaves the
// high watermark to its owner, the replica layer, which sets it with
// SetHighWatermark to what every in-sync replica acknowledged.

// AcknowledgedOffset returns the end of what the sync policy acknowledged: every
// offset below it is fsynced under SyncEveryAppend, written to the OS under
// SyncPeriodic and SyncNone. It is what this replica contributes to a high watermark.
func (p *Partition) AcknowledgedOffset() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mu.acked.offset
}

// HighWatermark returns the end of what readers see: EndOffset.
func (p *Partition) HighWatermark() int64 { return p.EndOffset() }

// SetHighWatermark lets readers of a Replicated partition see the records below hw,
// as far as they are acknowledged here (AcknowledgedOffset) and no further; the high
// watermark never moves back (TruncateTo alone lowers it). A high watermark inside a
// batch stops at the batch's start, one inside a gap of a follower's log (or at the
// start of the batch after one) at the gap's start: readers see whole batches, and
// find a record at every offset below the high watermark. It returns the high
// watermark now in force. On a partition that is not Replicated it is
// ErrInvalidArgument.
func (p *Partition) SetHighWatermark(hw int64) (int64, error) {
	if !p.replicated.Load() {
		return 0, errorf("strata/partition: SetHighWatermark on a partition that is not Replicated: %w", errs.ErrInvalidArgument)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.readableLocked(); err != nil {
		return 0, err
	}
	target := min(hw, p.mu.acked.offset)
	if target <= p.mu.committed.offset {
		return p.mu.committed.offset, nil
	}
	m := p.mu.acked
	if target < m.offset {
		var err error
		if m, err = p.markAtLocked(target); err != nil {
			return p.mu.committed.offset, err
		}
	}
	p.advanceCommittedLocked(m)
	return p.mu.committed.offset, nil
}

// acknowledgeLocked records that the sync policy acknowledged everything below m;
// unless the partition is Replicated, readers see it at once.
func (p *Partition) acknowledgeLocked(m mark) {
	if m.offset > p.mu.acked.offset {
		p.mu.acked = m
		p.notifyLocked()
	}
	if !p.replicated.Load() {
		p.advanceCommittedLocked(m)
	}
}

// markAtLocked returns the mark of the batch boundary at or below offset, for an
// offset between the start and the written offset: the end of the last batch that
// ends at or below offset, so that readers find a record at every offset below the
// mark (Wait's promise) even where a gap (a compacted leader's, in a follower) lies
// under it; never below the start offset, though, where a batch or a gap straddles
// it.
func (p *Partition) markAtLocked(offset int64) (mark, error) {
	if offset >= p.mu.written.offset {
		return p.mu.written, nil
	}
	segments := p.mu.segments
	i := max(sort.Search(len(segments), func(i int) bool { return segments[i].Base() > offset })-1, 0)
	s := segments[i]
	if offset <= s.Base() {
		return mark{offset: max(offset, p.mu.start), seg: s, pos: 0}, nil
	}
	end := s.Size()
	if s == p.mu.written.seg {
		end = p.mu.written.pos
	}
	pos, h, found, err := s.Find(offset, end)
	if err != nil {
		return mark{}, err
	}
	// The batches below pos end at or below limit.
	limit := offset
	if !found {
		pos = end
	} else {
		limit = min(offset, h.BaseOffset)
	}
	boundary := limit
	if !found || !s.Dense() {
		if boundary, err = endBefore(s, pos, limit); err != nil {
			return mark{}, err
		}
	}
	return mark{offset: max(boundary, p.mu.start), seg: s, pos: pos}, nil
}

// endBefore returns the offset after the batch that ends at position pos of s (its
// base if pos is 0: segments follow each other without a gap), knowing that the
// batch ends at or below limit. Its last offset is the greatest x for which s.Find(x,
// pos) finds a batch: the first probe tries limit-1, the common case of no gap before
// pos, and a binary search over s.Find (an index lookup and a short scan each)
// takes the others.
func endBefore(s *segment.Segment, pos, limit int64) (int64, error) {
	if pos == 0 {
		return s.Base(), nil
	}
	lo, hi := s.Base(), limit // the last offset below pos is in [lo, hi)
	for probe := hi - 1; hi-lo > 1; probe = lo + (hi-lo)/2 {
		_, _, found, err := s.Find(probe, pos)
		if err != nil {
			return 0, err
		}
		if found {
			lo = probe
		} else {
			hi = probe
		}
	}
	return lo + 1, nil
}

// Changes returns a channel that is closed at the partition's next change: its
// written, acknowledged or high watermark offset moves, or it is truncated, closed or
// fails. Take the channel, then read the offsets, then wait on it: no change is
// missed. A leader's replica layer long-polls its followers' fetches on it.
func (p *Partition) Changes() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed || p.mu.err != nil {
		return closedChannel
	}
	if p.mu.changes == nil {
		p.mu.changes = make(chan struct{})
	}
	return p.mu.changes
}

// notifyLocked closes the channel Changes returned.
func (p *Partition) notifyLocked() {
	if p.mu.changes != nil {
		close(p.mu.changes)
		p.mu.changes = nil
	}
}

// Replicated reports whether the partition's owner sets its high watermark: see
// Options.Replicated.
func (p *Partition) Replicated() bool { return p.replicated.Load() }

// SetReplicated changes who sets the high watermark, as a partition gains replicas
// or loses all but one (a reassignment): with true, the owner does from now on
// (SetHighWatermark), and readers see nothing new until it does; with false, readers
// see at once everything the sync policy acknowledged.
func (p *Partition) SetReplicated(replicated bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replicated.Store(replicated)
	if !replicated {
		p.advanceCommittedLocked(p.mu.acked)
	}
}

// SyncPolicy returns the partition's sync policy (Options.Sync, defaulted): whether
// AcknowledgedOffset is fsynced or only written.
func (p *Partition) SyncPolicy() SyncPolicy { return p.opts.Sync }
