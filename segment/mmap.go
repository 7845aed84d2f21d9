package segment

import (
	"errors"
	"io"

	"github.com/stratalog/strata/internal/vfs"
)

// Sizes of the mapping of a segment that is still being appended to: it maps more than
// the file holds, so that the file can grow under it, and is replaced by a mapping
// twice as large once reads reach its end.
const (
	minWindow = 1 << 20
	maxWindow = MaxSegmentBytes
)

// MapForReads maps the .log into memory, if the filesystem can (vfs.Mapper), so that
// lookups and reads of this segment cost no system call. Call it once the segment is
// sealed; a segment still appended to is mapped by View when first read. On a
// filesystem that cannot map, it does nothing.
func (s *Segment) MapForReads() error {
	_, err := s.mapping(0)
	return err
}

// View returns the n bytes of the .log at pos as a slice of a read-only memory
// mapping, without copying them, together with the mapping: the bytes stay valid for
// as long as the caller holds it, whatever happens to the segment afterwards (a
// truncation preserves them, a removal or Close leaves them mapped until the last
// holder lets go). pos+n must not exceed Size. ok is false when the filesystem cannot
// map files or mapping failed: the caller then reads with ReadAt.
func (s *Segment) View(pos int64, n int) (b []byte, m *vfs.Mapping, ok bool) {
	end := pos + int64(n)
	s.mu.RLock()
	m, size := s.mu.mapped, s.mu.size
	s.mu.RUnlock()
	if pos < 0 || n < 0 || end > size {
		return nil, nil, false
	}
	if m == nil || int64(m.Len()) < end {
		var err error
		if m, err = s.mapping(end); err != nil || m == nil {
			return nil, nil, false
		}
	}
	return m.Bytes()[pos:end:end], m, true
}

// mapping returns the segment's mapping, first mapping the .log (again, larger) if it
// does not reach position need; need 0 maps a sealed segment exactly. It returns nil
// if the filesystem cannot map. A failure is remembered: the segment is then read
// through the file.
func (s *Segment) mapping(need int64) (*vfs.Mapping, error) {
	mapper, ok := s.fsys.(vfs.Mapper)
	if !ok {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mu.mapped
	switch {
	case s.mu.closed || s.mu.mapFailed:
		return nil, nil
	case m != nil && int64(m.Len()) >= need:
		return m, nil
	case s.mu.size == 0 || need > s.mu.size:
		return nil, nil
	}
	length := int64(0) // sealed: the file's size
	if need > 0 {
		length = min(max(2*s.mu.size, minWindow), maxWindow)
	}
	m, err := mapper.MapReadOnly(s.path, length)
	if err == nil && int64(m.Len()) < max(need, s.mu.size) {
		err = errors.New("strata/segment: mapped log shorter than the segment")
	}
	if err != nil {
		s.mu.mapFailed = true
		return nil, err
	}
	// A mapping it replaces stays mapped for whoever still reads through it.
	s.mu.mapped = m
	return m, nil
}

// ensureMapped maps the .log, as View does, if the filesystem can and no mapping
// reaches end yet, so that lookups below end (Find, FindTimestamp) read batch headers
// from memory instead of with a system call each. A failure only leaves reads going
// through the file, and is remembered.
func (s *Segment) ensureMapped(end int64) {
	if _, ok := s.fsys.(vfs.Mapper); !ok {
		return
	}
	s.mu.RLock()
	m, size, failed := s.mu.mapped, s.mu.size, s.mu.mapFailed
	s.mu.RUnlock()
	if failed || end <= 0 || end > size || (m != nil && int64(m.Len()) >= end) {
		return
	}
	_, _ = s.mapping(end)
}

// readerLocked returns what reads below position end go through: the mapping, if
// it reaches end (with a small read-ahead, since reading memory needs no batching
// of system calls), or the file.
func (s *Segment) readerLocked(end int64) (io.ReaderAt, int) {
	if m := s.mu.mapped; m != nil && end <= s.mu.size && end <= int64(m.Len()) {
		return m, mappedChunk
	}
	return s.log, lookupChunk
}

// preserveMappedLocked makes the mapped bytes from pos to the end of the .log private
// copies, before the .log is truncated to pos, and drops the mapping: readers holding
// it keep reading the bytes they were given.
func (s *Segment) preserveMappedLocked(pos int64) error {
	m := s.mu.mapped
	if m == nil {
		return nil
	}
	if err := m.Preserve(pos, s.mu.size); err != nil {
		return err
	}
	s.mu.mapped = nil
	return nil
}
