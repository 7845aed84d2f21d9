package segment

import (
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/stratalog/strata/internal/errs"
)

// windowPool recycles read-ahead buffers of lookups, so that Find allocates nothing
// in the steady state.
var windowPool = sync.Pool{New: func() any { return new(window) }}

// Find returns the position and header of the first batch whose last offset is >=
// offset, looking below end only (end is a position the caller knows to be
// committed). It takes the greatest index entry <= offset and scans batch headers
// forward from its position, as Kafka does. found is false if no batch below end
// holds offset or a later one.
func (s *Segment) Find(offset int64, end int64) (pos int64, h BatchHeader, found bool, err error) {
	s.ensureMapped(end)
	return s.find(offset, end)
}

// find is Find without mapping the .log first.
func (s *Segment) find(offset int64, end int64) (pos int64, h BatchHeader, found bool, err error) {
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return 0, BatchHeader{}, false, errClosed
	}
	entryOffset, start := s.mu.offsets.Lookup(offset)
	file, chunk := s.readerLocked(end)
	s.mu.RUnlock()

	w := windowPool.Get().(*window)
	defer func() { w.file = nil; windowPool.Put(w) }()
	w.file, w.buf, w.start, w.chunk = file, w.buf[:0], 0, chunk
	pos, h, found, err = s.scanFor(offset, s.lookupScanner(w, entryOffset, start, end))
	if err != nil && start > 0 && errors.Is(err, errs.ErrCorrupt) {
		// The index has no checksum: an entry that leads to bytes that are no batch
		// may be the index's damage, not the log's. The scan from the segment's start
		// decides, and names the .log only if the log itself is bad.
		if pos, h, found, err2 := s.scanFor(offset, s.lookupScanner(w, s.base, 0, end)); err2 == nil {
			return pos, h, found, nil
		}
	}
	return pos, h, found, err
}

// scanFor scans batch headers with sc to the first batch whose last offset is >=
// offset.
func (s *Segment) scanFor(offset int64, sc scanner) (pos int64, h BatchHeader, found bool, err error) {
	for {
		pos := sc.pos
		h, _, err := sc.batch()
		if err == io.EOF {
			return 0, BatchHeader{}, false, nil
		}
		if err != nil {
			return 0, BatchHeader{}, false, err
		}
		if h.LastOffset() >= offset {
			return pos, h, true, nil
		}
	}
}

// lookupScanner returns a scanner over w from position start, which the offset index
// gave for entryOffset (position 0: no entry), up to end.
func (s *Segment) lookupScanner(w *window, entryOffset, start, end int64) scanner {
	sc := scanner{w: w, path: s.path, base: s.base, pos: start, end: end, next: s.base,
		maxBatch: s.opts.MaxBatchBytes, dense: s.Dense(), anchored: start == 0,
		fromEntry: start > 0, entryLast: entryOffset}
	return sc
}

// ReadAt reads len(p) bytes of the .log starting at pos.
func (s *Segment) ReadAt(p []byte, pos int64) (int, error) {
	s.mu.RLock()
	file, _ := s.readerLocked(pos + int64(len(p)))
	s.mu.RUnlock()
	return file.ReadAt(p, pos)
}

// FindTimestamp returns the offset of the first record at or above offset from and
// below position end whose timestamp is >= ts (ms). It starts at the time index entry before ts, skips batches whose max
// timestamp is below ts, and decodes the first batch that may hold one. found is
// false if no record below end qualifies.
func (s *Segment) FindTimestamp(ts, from, end int64) (offset int64, found bool, err error) {
	s.ensureMapped(end)
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return 0, false, errClosed
	}
	if off, ok := s.mu.times.SafeStartBefore(ts); ok {
		from = max(from, off)
	}
	entryOffset, start := s.mu.offsets.Lookup(from)
	file, chunk := s.readerLocked(end)
	s.mu.RUnlock()
	if start >= end {
		// The index already covers batches being appended above end.
		return 0, false, nil
	}

	w := windowPool.Get().(*window)
	defer func() { w.file = nil; windowPool.Put(w) }()
	w.file, w.buf, w.start, w.chunk = file, w.buf[:0], 0, chunk
	offset, found, err = s.scanForTime(ts, from, s.lookupScanner(w, entryOffset, start, end))
	if err != nil && start > 0 && errors.Is(err, errs.ErrCorrupt) {
		// As in find: the index may be what is damaged; the scan from the start decides.
		if offset, found, err2 := s.scanForTime(ts, from, s.lookupScanner(w, s.base, 0, end)); err2 == nil {
			return offset, found, nil
		}
	}
	return offset, found, err
}

// scanForTime scans batches with sc for the first record at or above offset from
// whose timestamp is >= ts.
func (s *Segment) scanForTime(ts, from int64, sc scanner) (offset int64, found bool, err error) {
	for {
		pos := sc.pos
		h, _, err := sc.batch()
		if err == io.EOF {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		if h.MaxTimestamp < ts || h.LastOffset() < from {
			continue
		}
		off, ok, err := s.firstRecordAtOrAfter(pos, h, ts, from)
		if err != nil || ok {
			return off, ok, err
		}
	}
}

// decoderPool recycles the decoders of firstRecordAtOrAfter.
var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// firstRecordAtOrAfter decodes the batch at pos and returns the offset of its first
// record at or above from with timestamp >= ts. The batch is read from the mapping
// when there is one, copied otherwise.
func (s *Segment) firstRecordAtOrAfter(pos int64, h BatchHeader, ts, from int64) (int64, bool, error) {
	buf, m, ok := s.View(pos, h.Size())
	defer runtime.KeepAlive(m) // buf is valid while m is held
	if !ok {
		buf = make([]byte, h.Size())
		if _, err := s.ReadAt(buf, pos); err != nil {
			return 0, false, err
		}
	}
	if _, err := VerifyBatch(buf, s.opts.MaxBatchBytes); err != nil {
		return 0, false, corruptAt(s.path, pos, err)
	}
	d := decoderPool.Get().(*Decoder)
	defer decoderPool.Put(d)
	defer d.forget()
	d.MaxDecompressedBytes = MaxDecompressedFor(s.opts.MaxBatchBytes)
	if err := d.Reset(buf); err != nil {
		return 0, false, corruptAt(s.path, pos, err)
	}
	var r Record
	for {
		ok, err := d.Next(&r)
		if err != nil {
			return 0, false, corruptAt(s.path, pos, err)
		}
		if !ok {
			return 0, false, nil
		}
		if r.Timestamp >= ts && r.Offset >= from {
			return r.Offset, true, nil
		}
	}
}

// IndexFloor returns the offset of the greatest offset index entry <= offset (the
// segment's base offset if there is none): where a lookup of offset starts scanning.
func (s *Segment) IndexFloor(offset int64) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	entry, _ := s.mu.offsets.Lookup(offset)
	return entry
}
