package partition

import "sort"

// Location says where the batch holding an offset lives on disk: the answer to the
// seed's question of which segment file and which byte position hold offset 368776.
type Location struct {
	Path       string // the segment's .log file
	Base       int64  // the segment's base offset
	Position   int64  // byte position of the batch in the .log
	IndexEntry int64  // offset of the index entry the lookup started from
	BatchBase  int64  // first offset of the batch
	BatchLast  int64  // last offset of the batch
}

// Locate finds the batch holding offset the way a read does: binary search over
// the segments' base offsets, the greatest index entry <= offset, then a forward scan
// of batch headers. It returns ErrOffsetOutOfRange for an offset that is not
// readable.
func (p *Partition) Locate(offset int64) (Location, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.readableLocked(); err != nil {
		return Location{}, err
	}
	if offset < p.mu.start || offset >= p.mu.committed.offset {
		return Location{}, p.outOfRangeLocked(offset)
	}
	segments := p.mu.segments
	i := sort.Search(len(segments), func(i int) bool { return segments[i].Base() > offset }) - 1
	for i = max(i, 0); i < len(segments); i++ {
		s := segments[i]
		end := p.readableEndLocked(s)
		pos, h, found, err := s.Find(offset, end)
		if err != nil {
			return Location{}, err
		}
		if found {
			return Location{
				Path: s.Path(), Base: s.Base(), Position: pos,
				IndexEntry: s.IndexFloor(offset), BatchBase: h.BaseOffset, BatchLast: h.LastOffset(),
			}, nil
		}
	}
	return Location{}, p.outOfRangeLocked(offset)
}

// Roll seals the active segment and starts a new one at the written offset, as
// Kafka's forced roll does; it does nothing if the active segment is empty.
func (p *Partition) Roll() error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.mu.RLock()
	err := p.usableLocked()
	written := p.mu.written
	p.mu.RUnlock()
	if err != nil || written.seg.Size() == 0 {
		return err
	}
	_, err = p.rollLocked(written.offset)
	return err
}
