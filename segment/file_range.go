package segment

import (
	"errors"
	"os"

	"github.com/stratalog/strata/vfs"
)

// ErrFileChanged is returned by FileRange.SendTo once the segment has been
// truncated since the range was made: the file may no longer hold the range's bytes,
// and the caller sends the rest from the bytes it read (View's, which TruncateTo
// preserves).
var ErrFileChanged = errors.New("strata/segment: the segment was truncated since the range was made")

// FileRange names n bytes at a position of a segment's .log, on a descriptor of its
// own (vfs.Duplicator), so that a server sends them to a socket with sendfile(2)
// instead of copying them through its memory. The descriptor keeps the file's bytes
// whatever happens to the segment: Close, Remove (retention, compaction's swap,
// deletion of the topic) leave the file open for the range until Close, as POSIX
// keeps an unlinked file that is open. Only TruncateTo changes bytes of the .log in
// place (appends write past its end); a range made before a truncation refuses to
// send from then on (ErrFileChanged), and its holder sends the rest from the bytes
// it read.
//
// A FileRange is used by one goroutine at a time. Close it once sent.
type FileRange struct {
	seg         *Segment
	file        *os.File
	pos         int64
	n           int
	truncations uint64 // seg.send.truncations when made
}

// FileRange returns the n bytes at pos as a FileRange, or ok false when the
// filesystem cannot lend a descriptor (not vfs.Duplicator: a memory filesystem, or
// the OS filesystem off Linux), the segment is closed, pos+n exceeds Size, or
// duplicating the descriptor failed. As for Find and ReadAt, the caller bounds it by
// a position it knows committed and does not run it concurrently with TruncateTo of
// those bytes.
func (s *Segment) FileRange(pos int64, n int) (r *FileRange, ok bool) {
	dup, can := s.fsys.(vfs.Duplicator)
	if !can || pos < 0 || n < 0 {
		return nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.mu.closed || pos+int64(n) > s.mu.size {
		return nil, false
	}
	f, err := dup.DupFile(s.log)
	if err != nil {
		return nil, false
	}
	s.send.RLock()
	truncations := s.send.truncations
	s.send.RUnlock()
	return &FileRange{seg: s, file: f, pos: pos, n: n, truncations: truncations}, true
}

// countTruncation records that the .log is about to be cut: it waits for the
// sendfile calls under way and makes every FileRange made before refuse to send.
func (s *Segment) countTruncation() {
	s.send.Lock()
	s.send.truncations++
	s.send.Unlock()
}

// File returns the range's descriptor (nil once closed), for reads at explicit
// positions only (ReadAt, sendfile with an offset): it shares its file position
// with the segment's. The caller must not close it, write it or seek it.
func (r *FileRange) File() *os.File { return r.file }

// Pos returns the position of the range's first byte in the .log.
func (r *FileRange) Pos() int64 { return r.pos }

// Len returns the number of bytes of the range.
func (r *FileRange) Len() int { return r.n }

// Limit shortens the range to its first n bytes; a larger n changes nothing.
func (r *FileRange) Limit(n int) {
	r.n = max(min(r.n, n), 0)
}

// Close closes the range's descriptor. It is idempotent.
func (r *FileRange) Close() error {
	if r == nil || r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}
