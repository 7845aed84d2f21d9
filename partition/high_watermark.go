package partition

import (
	"fmt"
	"sort"

	"github.com/stratalog/strata/internal/errs"
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
// batch stops at the batch's start: readers see whole batches. It returns the high
// watermark now in force. On a partition that is not Replicated it is
// ErrInvalidArgument.
func (p *Partition) SetHighWatermark(hw int64) (int64, error) {
	if !p.opts.Replicated {
		return 0, fmt.Errorf("strata/partition: SetHighWatermark on a partition that is not Replicated: %w", errs.ErrInvalidArgument)
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
	if !p.opts.Replicated {
		p.advanceCommittedLocked(m)
	}
}

// markAtLocked returns the mark of the batch boundary at or below offset (offset
// itself where it lies in a gap), for an offset between the start and the written
// offset; never below the start offset, where a batch straddles it.
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
	switch {
	case err != nil:
		return mark{}, err
	case !found:
		return mark{offset: offset, seg: s, pos: end}, nil
	case h.BaseOffset < offset:
		return mark{offset: max(h.BaseOffset, p.mu.start), seg: s, pos: pos}, nil
	}
	return mark{offset: offset, seg: s, pos: pos}, nil
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

// Replicated reports whether the partition was opened with Options.Replicated.
func (p *Partition) Replicated() bool { return p.opts.Replicated }
