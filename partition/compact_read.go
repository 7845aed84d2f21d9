package partition

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// errCompactionRaced says that retention, truncation or Close changed the segments a
// compaction was working on: it gives up without changing anything, and the next
// compaction starts over.
var errCompactionRaced = errors.New("strata/partition: segments changed during compaction")

// compactReadChunk is how many bytes of a sealed segment compaction reads at a time
// (more when a batch is larger).
const compactReadChunk = 1 << 20

// sealedReader walks the batches of a sealed segment while the partition keeps
// running, checking each as recovery does (bounds, magic, CRC-32C, rising offsets).
// Every read holds mu (read) and first checks that the segment still belongs to the
// partition: retention removes a segment from the list before closing it, so a
// segment in the list is open, and its mapping too.
type sealedReader struct {
	p           *Partition
	truncations uint64 // cleaner.truncations when the compaction began
	s           *segment.Segment
	end         int64 // the segment's size; a sealed segment does not grow
	pos         int64 // position of the next batch
	next        int64 // lowest base offset the next batch may have
	buf         []byte
	bufPos      int64 // file position of buf[0]
}

func (r *sealedReader) reset(s *segment.Segment) {
	r.s, r.end, r.pos, r.next = s, s.Size(), 0, s.Base()
	r.buf, r.bufPos = r.buf[:0], 0
}

// batch returns the position, header and bytes of the next batch (the bytes are
// valid until the next call), or io.EOF at the end of the segment.
func (r *sealedReader) batch() (int64, segment.BatchHeader, []byte, error) {
	pos := r.pos
	if pos >= r.end {
		return pos, segment.BatchHeader{}, nil, io.EOF
	}
	head, err := r.bytes(pos, segment.BatchHeaderSize)
	if err != nil {
		return pos, segment.BatchHeader{}, nil, err
	}
	h, err := segment.ParseBatchHeader(head, r.p.storedMax)
	if err != nil {
		return pos, h, nil, r.corrupt(pos, err)
	}
	if int64(h.Size()) > r.end-pos {
		return pos, h, nil, r.corrupt(pos, fmt.Errorf("partial batch: %d bytes of %d", r.end-pos, h.Size()))
	}
	if h.BaseOffset < r.next {
		return pos, h, nil, r.corrupt(pos, fmt.Errorf("batch base offset %d below expected %d", h.BaseOffset, r.next))
	}
	whole, err := r.bytes(pos, h.Size())
	if err != nil {
		return pos, h, nil, err
	}
	if _, err := segment.VerifyBatch(whole, r.p.storedMax); err != nil {
		return pos, h, nil, r.corrupt(pos, err)
	}
	r.pos += int64(h.Size())
	r.next = h.NextOffset()
	return pos, h, whole, nil
}

// bytes returns the n bytes at pos, reading ahead up to compactReadChunk.
func (r *sealedReader) bytes(pos int64, n int) ([]byte, error) {
	if pos >= r.bufPos && pos+int64(n) <= r.bufPos+int64(len(r.buf)) {
		off := pos - r.bufPos
		return r.buf[off : off+int64(n)], nil
	}
	want := int(min(int64(max(n, compactReadChunk)), r.end-pos))
	if cap(r.buf) < want {
		r.buf = make([]byte, want)
	}
	r.buf, r.bufPos = r.buf[:want], pos
	if err := r.p.readSealed(r.s, r.buf, pos); err != nil {
		r.buf = r.buf[:0]
		return nil, err
	}
	return r.buf[:n], nil
}

// corrupt reports an invalid batch at pos, unless a truncation changed the segment
// under the reader: then the compaction lost a race and gives up.
func (r *sealedReader) corrupt(pos int64, err error) error {
	if r.p.cleaner.truncations.Load() != r.truncations {
		return errCompactionRaced
	}
	return errs.Corruptf(r.s.Path(), pos, "%v", err)
}

// readSealed reads len(b) bytes of segment s at pos, if s is still one of the
// partition's segments.
func (p *Partition) readSealed(s *segment.Segment, b []byte, pos int64) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.mu.closed || !p.holdsLocked(s) {
		return errCompactionRaced
	}
	if _, err := s.ReadAt(b, pos); err != nil {
		return errorf("strata/partition: compact: read %s at %d: %w", s.Path(), pos, err)
	}
	return nil
}

// holdsLocked reports whether s is one of the partition's segments.
func (p *Partition) holdsLocked(s *segment.Segment) bool {
	segments := p.mu.segments
	i := sort.Search(len(segments), func(i int) bool { return segments[i].Base() >= s.Base() })
	return i < len(segments) && segments[i] == s
}
