package segment

import (
	"errors"
	"io"

	"github.com/stratalog/strata/internal/errs"
)

// Read-ahead sizes of a window: large for recovery and index rebuilds, which walk a
// whole file, small for lookups, which walk at most IndexIntervalBytes of batches
// past an index entry.
const (
	scanChunk   = 64 << 10
	lookupChunk = 8 << 10
	mappedChunk = 512
)

// window is a read-ahead buffer over a file, used to walk batch headers and batches
// without one read per header. It never holds more than max(scanChunk, the largest
// batch asked for), and callers never ask for more than MaxBatchBytes.
type window struct {
	file  io.ReaderAt
	buf   []byte
	start int64 // file position of buf[0]
	chunk int   // read-ahead size; scanChunk when zero
}

// bytes returns the n bytes at pos, reading ahead from the file if they are not
// buffered. Reads never go past end. It returns io.ErrUnexpectedEOF when fewer than n
// bytes lie between pos and end.
func (w *window) bytes(pos int64, n int, end int64) ([]byte, error) {
	if pos >= w.start && pos+int64(n) <= w.start+int64(len(w.buf)) {
		off := pos - w.start
		return w.buf[off : off+int64(n)], nil
	}
	if end-pos < int64(n) {
		return nil, io.ErrUnexpectedEOF
	}
	chunk := w.chunk
	if chunk == 0 {
		chunk = scanChunk
	}
	want := max(n, chunk)
	if int64(want) > end-pos {
		want = int(end - pos)
	}
	if cap(w.buf) < want {
		w.buf = make([]byte, want)
	}
	got, err := w.file.ReadAt(w.buf[:want], pos)
	if got < n {
		w.buf, w.start = w.buf[:0], 0
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	w.buf, w.start = w.buf[:got], pos
	return w.buf[:n], nil
}

// scanner walks the batches of a .log file from pos to end, checking each header (and,
// with verify, each CRC) and that offsets only rise.
type scanner struct {
	w        *window
	path     string
	base     int64 // the segment's base offset
	pos      int64 // position of the next batch
	end      int64
	next     int64 // lowest offset the next batch may start at
	maxBatch int
	verify   bool
	// dense: the next batch must start exactly at next, once next is known
	// (anchored): from the segment's start, or after the first batch read.
	dense    bool
	anchored bool
	// fromEntry: pos came from an index entry naming entryLast, which must be the
	// last offset of the first batch (the index agrees with the log).
	fromEntry bool
	entryLast int64
	// terms accumulates the fingerprint of the batches read (see digest.go).
	terms terms
}

// batch returns the header and bytes of the batch at sc.pos and advances past it. The
// returned bytes are whole only with verify; without it only the header is read. It
// returns io.EOF exactly at end and a *errs.CorruptError for anything invalid, where
// Position is the start of the first invalid batch.
func (sc *scanner) batch() (BatchHeader, []byte, error) {
	if sc.pos == sc.end {
		return BatchHeader{}, nil, io.EOF
	}
	head, err := sc.w.bytes(sc.pos, BatchHeaderSize, sc.end)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "partial batch header (%d bytes)", sc.end-sc.pos)
	}
	if err != nil {
		return BatchHeader{}, nil, err
	}
	h, err := ParseBatchHeader(head, sc.maxBatch)
	if err != nil {
		return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "%v", err)
	}
	if int64(h.Size()) > sc.end-sc.pos {
		return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "partial batch: %d bytes of %d", sc.end-sc.pos, h.Size())
	}
	if h.BaseOffset < sc.next {
		return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "batch base offset %d below expected %d", h.BaseOffset, sc.next)
	}
	if sc.dense && sc.anchored && h.BaseOffset != sc.next {
		return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "batch base offset %d, expected %d: offsets leave a gap in a segment compaction never touched", h.BaseOffset, sc.next)
	}
	if h.LastOffset()-sc.base > maxRelativeOffset {
		return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "batch last offset %d too far above segment base %d", h.LastOffset(), sc.base)
	}
	var whole []byte
	if sc.verify {
		whole, err = sc.w.bytes(sc.pos, h.Size(), sc.end)
		if err != nil {
			return BatchHeader{}, nil, err
		}
		if _, err := VerifyBatch(whole, sc.maxBatch); err != nil {
			return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "%v", err)
		}
	}
	if sc.fromEntry {
		if h.LastOffset() != sc.entryLast {
			return BatchHeader{}, nil, errs.Corruptf(sc.path, sc.pos, "the index names offset %d at this position, the batch here ends at offset %d", sc.entryLast, h.LastOffset())
		}
		sc.fromEntry = false
	}
	sc.pos += int64(h.Size())
	sc.next = h.NextOffset()
	sc.terms.add(&h)
	sc.anchored = true
	return h, whole, nil
}

// fingerprint returns the fingerprint of the batches read so far (from the start
// of the file: its digest is known).
func (sc *scanner) fingerprint() Fingerprint {
	return Fingerprint{Size: sc.pos, Digest: sc.terms.sum, DigestKnown: true, Edges: sc.terms.edges()}
}
