package partition

import (
	"slices"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// replayWindowBytes is how much of a segment the replay reads at a time, after a
// batch smaller than replayLargeBatchBytes.
const (
	replayWindowBytes     = 32 << 10
	replayLargeBatchBytes = 4 << 10
)

// replayProducersLocked applies to the producer state every batch with a producer
// id whose last offset is at or above from, in the segments as they are: Open's and
// truncation's rebuild after the newest usable snapshot. It reads batch headers
// only, and the first record of control batches. The caller holds appendMu (or is
// Open).
func (p *Partition) replayProducersLocked(from int64) error {
	p.mu.RLock()
	segments := p.mu.segments
	p.mu.RUnlock()
	var r replay
	for _, s := range segments {
		if err := p.replaySegmentLocked(&r, s, from); err != nil {
			return err
		}
	}
	return nil
}

// replay holds the buffers of one replay, reused from segment to segment.
type replay struct {
	window, batch []byte
}

// replaySegmentLocked applies the batches of s whose last offset is at or above from
// (see replayProducersLocked). The caller holds appendMu (or is Open).
func (p *Partition) replaySegmentLocked(r *replay, s *segment.Segment, from int64) error {
	end := s.Size()
	if s.NextOffset() <= from || end == 0 {
		return nil
	}
	var pos int64
	if s.Base() < from {
		found := false
		var err error
		if pos, _, found, err = s.Find(from, end); err != nil {
			return err
		} else if !found {
			return nil
		}
	}
	var windowPos int64 // the segment position of window[0]
	window := r.window[:0]
	defer func() { r.window = window }()
	size := 0 // of the batch before pos
	for pos < end {
		if pos+segment.BatchHeaderSize > windowPos+int64(len(window)) {
			// Small batches' headers are read a window at a time: one read per
			// header made Open after a crash several times slower. After a batch
			// of a page or more, only the next header is read, so that the replay
			// does not read the bodies of large batches.
			n := int64(replayWindowBytes)
			if size >= replayLargeBatchBytes {
				n = segment.BatchHeaderSize
			}
			window = slices.Grow(window[:0], replayWindowBytes)[:min(n, end-pos)]
			if _, err := s.ReadAt(window, pos); err != nil {
				return err
			}
			windowPos = pos
		}
		at := pos - windowPos
		h, err := segment.ParseBatchHeader(window[at:min(at+segment.BatchHeaderSize, int64(len(window)))], p.storedMax)
		if err != nil {
			return errs.Corruptf(s.Path(), pos, "%v", err)
		}
		if h.ProducerID >= 0 && h.LastOffset() >= from {
			if h.IsControl() {
				r.batch = append(r.batch[:0], make([]byte, h.Size())...)
				if _, err := s.ReadAt(r.batch, pos); err != nil {
					return err
				}
			}
			if err := p.recordProducerLocked(r.batch, &h, s); err != nil {
				return err
			}
		}
		size = h.Size()
		pos += int64(size)
	}
	return nil
}
