package partition

import (
	"slices"
	"sort"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// ReadBatches appends to dst the bytes of whole batches, starting with the batch that
// holds offset, until adding the next batch would exceed maxBytes; at least one batch
// is returned even if it alone exceeds maxBytes, so a reader always makes progress
// (Kafka's fetch). Batches come from one segment per call, exactly as they are on
// disk: the first may begin below offset, and a reader skips those records. It
// returns dst unchanged when offset is the end offset, and ErrOffsetOutOfRange below
// the start offset or above the end offset. It never returns bytes of an
// unacknowledged append.
func (p *Partition) ReadBatches(dst []byte, offset int64, maxBytes int) ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s, pos, n, first, err := p.findBatchesLocked(offset, maxBytes)
	if err != nil || s == nil {
		return dst, err
	}
	return p.readWhole(dst, s, pos, n, first, offset)
}

// ReadBatchesView is ReadBatches without a copy where the segment can be mapped
// (the OS filesystem on Linux): the batches are a view of the segment's read-only
// memory mapping, valid while the caller keeps keep reachable (retention,
// truncation or Close cannot unmap it meanwhile: see vfs.Mapping). Where it cannot
// map, it returns a copy and keep is nil. The caller must not modify the bytes. A
// Kafka fetch handler writes them to its socket as they are.
func (p *Partition) ReadBatchesView(offset int64, maxBytes int) (batches []byte, keep any, err error) {
	b, m, err := p.fetchBatches(nil, offset, maxBytes)
	if m == nil {
		return b, nil, err
	}
	return b, m, err
}

// fetchBatches returns what ReadBatches would append to dst, as a slice of the
// segment's memory mapping when it can be mapped, together with that mapping, which
// keeps the slice valid; otherwise (m nil) it appends a copy to dst and returns it,
// as ReadBatches does.
func (p *Partition) fetchBatches(dst []byte, offset int64, maxBytes int) (b []byte, m *vfs.Mapping, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.fetchBatchesBelowLocked(dst, offset, maxBytes, p.mu.committed)
}

// ReadBatchesFile is ReadBatchesView that also names the batches as a range of the
// segment's .log (file), for a server that sends them to a socket with sendfile(2)
// rather than copying them: where the filesystem lends descriptors
// (vfs.Duplicator: the OS filesystem on Linux) and the batches are a view of the
// mapping; file is nil otherwise. file names exactly batches' bytes, which stay
// valid as ReadBatchesView's do; the caller may Limit it to a prefix of whole
// batches, and closes it once sent.
//
// The range may lie in the segment being appended to: it ends at the committed
// position, and every byte below it was written to the file (Append writes with
// WriteAt before it indexes the batch; there is no buffer in user space), which the
// view read through the same page cache. Appends only write past the end; the one
// change of bytes in place is TruncateTo, which FileRange.SendTo is ordered against.
// Retention and compaction remove or replace whole files, whose bytes the range's
// descriptor keeps.
func (p *Partition) ReadBatchesFile(offset int64, maxBytes int) (batches []byte, keep any, file *segment.FileRange, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	b, m, s, pos, err := p.viewBatchesBelowLocked(nil, offset, maxBytes, p.mu.committed)
	if m == nil {
		return b, nil, nil, err
	}
	if len(b) > 0 {
		file, _ = s.FileRange(pos, len(b))
	}
	return b, m, file, err
}

// fetchBatchesBelowLocked is fetchBatches up to limit rather than the committed
// mark. The caller holds mu.
func (p *Partition) fetchBatchesBelowLocked(dst []byte, offset int64, maxBytes int, limit mark) (b []byte, m *vfs.Mapping, err error) {
	b, m, _, _, err = p.viewBatchesBelowLocked(dst, offset, maxBytes, limit)
	return b, m, err
}

// viewBatchesBelowLocked is fetchBatchesBelowLocked that also returns the segment
// and the position the batches were read from (when m is not nil). The caller holds
// mu.
func (p *Partition) viewBatchesBelowLocked(dst []byte, offset int64, maxBytes int, limit mark) (b []byte, m *vfs.Mapping, s *segment.Segment, pos int64, err error) {
	s, pos, n, first, err := p.findBatchesBelowLocked(offset, maxBytes, limit)
	if err != nil || s == nil {
		return dst, nil, nil, 0, err
	}
	view, m, ok := s.View(pos, n)
	if !ok {
		p.reportMapError(s)
		b, err := p.readWhole(dst, s, pos, n, first, offset)
		return b, nil, nil, 0, err
	}
	keep, err := p.wholeBatches(view, first, s, pos, offset)
	if err != nil {
		return dst, nil, nil, 0, err
	}
	p.stats.bytesRead.Add(uint64(keep))
	return view[:keep:keep], m, s, pos, nil
}

// findBatchesLocked finds where ReadBatches reads: n bytes at pos of segment s, whose
// first batch, of first bytes, holds offset (n >= first). s is nil at the end offset.
func (p *Partition) findBatchesLocked(offset int64, maxBytes int) (s *segment.Segment, pos int64, n, first int, err error) {
	return p.findBatchesBelowLocked(offset, maxBytes, p.mu.committed)
}

// findBatchesBelowLocked is findBatchesLocked up to limit rather than the committed
// mark.
func (p *Partition) findBatchesBelowLocked(offset int64, maxBytes int, limit mark) (s *segment.Segment, pos int64, n, first int, err error) {
	if err := p.readableLocked(); err != nil {
		return nil, 0, 0, 0, err
	}
	if offset < p.mu.start || offset > limit.offset {
		return nil, 0, 0, 0, errorf("strata/partition: offset %d not in [%d, %d]: %w", offset, p.mu.start, limit.offset, errs.ErrOffsetOutOfRange)
	}
	segments := p.mu.segments
	i := sort.Search(len(segments), func(i int) bool { return segments[i].Base() > offset }) - 1
	for i = max(i, 0); i < len(segments) && offset < limit.offset; i++ {
		s := segments[i]
		if s.Base() >= limit.offset {
			break // holds nothing below the limit
		}
		end := s.Size()
		if s == limit.seg {
			end = limit.pos
		}
		pos, h, found, err := s.Find(offset, end)
		if err != nil {
			return nil, 0, 0, 0, err
		}
		if !found {
			continue // offset is past this segment's records (a gap): try the next
		}
		n := min(end-pos, int64(max(maxBytes, h.Size())))
		return s, pos, int(n), h.Size(), nil
	}
	if offset < limit.offset {
		// No batch holds offset or a later one below the end offset: a gap that
		// nothing explains (compaction keeps each segment's last batch; a repair
		// covers what it gives up with an empty batch).
		return nil, 0, 0, 0, errs.Corruptf(p.dir, -1, "no batch holds offsets %d to %d, below the end offset", offset, limit.offset-1)
	}
	return nil, 0, 0, 0, nil
}

// readWhole reads n bytes at pos and keeps the whole batches among them (the first,
// of size first, always), fetched for offset.
func (p *Partition) readWhole(dst []byte, s *segment.Segment, pos int64, n, first int, offset int64) ([]byte, error) {
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	if _, err := s.ReadAt(dst[start:], pos); err != nil {
		return dst[:start], err
	}
	keep, err := p.wholeBatches(dst[start:], first, s, pos, offset)
	if err != nil {
		return dst[:start], err
	}
	p.stats.bytesRead.Add(uint64(keep))
	return dst[:start+keep], nil
}

// wholeBatches returns the length of the whole batches at the start of b, read from
// position pos of s for offset: at least first, the size of the first batch. A
// batch's baseOffset lies outside its CRC, and a reader (a Reader, or a Kafka client
// of raw batches) would take a damaged one at its word, renumbering, repeating or
// skipping records; so the batches must follow each other. The first holds offset
// or, where compaction left a gap, begins above it, and never below the segment's
// base; each later one begins at or above the end of the one before. In a dense
// segment there is no gap: each batch begins exactly where the one before ended, the
// first at or below offset, or at the segment's base if offset lies below it.
func (p *Partition) wholeBatches(b []byte, first int, s *segment.Segment, pos int64, offset int64) (int, error) {
	h, err := segment.ParseBatchHeader(b, p.storedMax)
	if err != nil {
		return 0, errs.Corruptf(s.Path(), pos, "%v", err)
	}
	if h.LastOffset() < offset || h.BaseOffset < s.Base() || (s.Dense() && h.BaseOffset > max(offset, s.Base())) {
		return 0, errs.Corruptf(s.Path(), pos, "batch of offsets %d to %d where offset %d was expected: batches do not follow each other", h.BaseOffset, h.LastOffset(), max(offset, s.Base()))
	}
	keep, next := first, h.NextOffset()
	for keep+segment.BatchHeaderSize <= len(b) {
		h, err := segment.ParseBatchHeader(b[keep:], p.storedMax)
		if err != nil {
			return 0, errs.Corruptf(s.Path(), pos+int64(keep), "%v", err)
		}
		if h.BaseOffset < next || (s.Dense() && h.BaseOffset != next) {
			return 0, errs.Corruptf(s.Path(), pos+int64(keep), "batch base offset %d where offset %d was expected: batches do not follow each other", h.BaseOffset, next)
		}
		if keep+h.Size() > len(b) {
			break
		}
		keep += h.Size()
		next = h.NextOffset()
	}
	return keep, nil
}

// readableEndLocked returns the position up to which readers may read segment s: all
// of a sealed segment, the committed position of the segment holding the committed
// mark.
func (p *Partition) readableEndLocked(s *segment.Segment) int64 {
	if s == p.mu.committed.seg {
		return p.mu.committed.pos
	}
	return s.Size()
}

func (p *Partition) outOfRangeLocked(offset int64) error {
	return errorf("strata/partition: offset %d not in [%d, %d]: %w", offset, p.mu.start, p.mu.committed.offset, errs.ErrOffsetOutOfRange)
}

// Read returns up to maxRecords records (0: no limit) starting at offset, from at
// most maxBytes of batches (at least one batch; more only while compaction left the
// batches fetched without a record at or after offset, or they held only control
// batches, so that Read returns no records only when none is left at or after
// offset: at the end offset, or where only transaction markers lie before it).
// The records are copies the caller owns. It does not wait.
// Reading below the start offset or above the end offset is ErrOffsetOutOfRange.
func (p *Partition) Read(offset int64, maxRecords, maxBytes int) ([]Record, error) {
	r := p.NewReader(offset, maxBytes)
	if err := r.fetch(); err != nil {
		return nil, err
	}
	var out []Record
	for maxRecords <= 0 || len(out) < maxRecords {
		rec, err := r.decodeNext()
		if err != nil {
			return out, err
		}
		if rec == nil && len(out) == 0 && len(r.buf) > 0 {
			if err := r.fetch(); err != nil {
				return nil, err
			}
			continue
		}
		if rec == nil {
			break
		}
		out = append(out, cloneRecord(rec))
	}
	return out, nil
}

func cloneRecord(r *Record) Record {
	c := *r
	c.Key = cloneBytes(r.Key)
	c.Value = cloneBytes(r.Value)
	if r.Headers != nil {
		c.Headers = make([]Header, len(r.Headers))
		for i, h := range r.Headers {
			c.Headers[i] = Header{Key: h.Key, Value: cloneBytes(h.Value)}
		}
	}
	return c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
