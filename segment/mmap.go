package segment

import (
	"errors"
	"io"
	"weak"

	"github.com/stratalog/strata/vfs"
)

// Sizes of the mapping of a segment that is still being appended to: it maps more than
// the file holds, so that the file can grow under it, and is replaced by a mapping
// twice as large once reads reach its end.
const (
	minWindow = 1 << 20
	maxWindow = MaxSegmentBytes
)

// MapForReads maps the whole .log into memory, if the filesystem can (vfs.Mapper), so
// that lookups and reads of this segment cost no system call. Call it once the
// segment is sealed; a segment still appended to is mapped by View and lookups. On a
// filesystem that cannot map, it does nothing.
func (s *Segment) MapForReads() error {
	_, err := s.mapping(0, false)
	return err
}

// View returns the n bytes of the .log at pos as a slice of a read-only memory
// mapping, without copying them, together with the mapping: the bytes stay valid and
// unchanged for as long as the caller holds it, whatever happens to the segment
// afterwards (TruncateTo preserves them, Remove or Close leave them mapped until the
// last holder lets go). pos+n must not exceed Size. ok is false when the filesystem
// cannot map files or mapping failed: the caller then reads with ReadAt.
func (s *Segment) View(pos int64, n int) (b []byte, m *vfs.Mapping, ok bool) {
	end := pos + int64(n)
	if pos < 0 || n < 0 {
		return nil, nil, false
	}
	s.mu.RLock()
	m, size := s.mu.mapped, s.mu.size
	handedOut := m != nil && s.mu.viewedCurrent
	s.mu.RUnlock()
	if end > size {
		return nil, nil, false
	}
	if m == nil || int64(m.Len()) < end || !handedOut {
		var err error
		if m, err = s.viewMapping(end); err != nil || m == nil {
			return nil, nil, false
		}
	}
	return m.Bytes()[pos:end:end], m, true
}

// viewMapping returns a mapping reaching end, as mapping does, and records it among
// the mappings handed out to readers, which TruncateTo must preserve.
func (s *Segment) viewMapping(end int64) (*vfs.Mapping, error) {
	m, err := s.mapping(end, true)
	if err != nil || m == nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.mapped != m {
		return nil, nil // replaced or dropped meanwhile: read through the file this time
	}
	if !s.mu.viewedCurrent {
		s.mu.viewed = append(s.liveViewedLocked(), weak.Make(m))
		s.mu.viewedCurrent = true
	}
	return m, nil
}

// mapping returns the segment's mapping, first mapping the .log (again, larger) if it
// does not reach position need. With window, a new mapping extends past the file
// (minWindow, or twice its size), for a segment still growing; without, it maps
// exactly the file, for a sealed segment, and need is its size. It returns nil if
// the filesystem cannot map, need lies past the file, or mapping failed before; a
// failure is remembered, and the segment is then read through the file.
func (s *Segment) mapping(need int64, window bool) (*vfs.Mapping, error) {
	mapper, ok := s.fsys.(vfs.Mapper)
	if !ok {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	size, m := s.mu.size, s.mu.mapped
	if !window {
		need = size
	}
	switch {
	case s.mu.closed || s.mu.mapFailed || size == 0 || need > size:
		return nil, nil
	case m != nil && int64(m.Len()) >= need:
		return m, nil
	}
	length := size
	if window {
		length = min(max(2*size, minWindow), maxWindow)
	}
	m, err := mapper.MapFile(s.log, length)
	if err == nil && int64(m.Len()) < size {
		err = errors.New("strata/segment: mapped log shorter than the segment")
	}
	if err != nil {
		s.mu.mapFailed, s.mu.mapErr = true, err
		return nil, err
	}
	// A mapping it replaces stays mapped for whoever still reads through it (and
	// stays in s.mu.viewed if View handed it out).
	s.mu.mapped, s.mu.viewedCurrent = m, false
	return m, nil
}

// TakeMapError returns, once, the error that made the segment give up mapping its
// .log (it is read through the file from then on: slower, not wrong), for the caller
// to log; nil if there was none or it was taken already.
func (s *Segment) TakeMapError() error {
	s.mu.RLock()
	none := s.mu.mapErr == nil
	s.mu.RUnlock()
	if none { // the common case, on every read of a segment that cannot be mapped
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.mu.mapErr
	s.mu.mapErr = nil
	return err
}

// ensureMapped maps the .log, as View does, if the filesystem can and no mapping
// reaches end yet, so that lookups below end (Find, FindTimestamp) read batch headers
// from memory instead of with a system call each.
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
	_, _ = s.mapping(end, true)
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

// preserveMappedLocked makes the bytes from pos to the end of the .log private copies
// in every mapping View handed out that is still held, before the .log is truncated
// to pos, and drops the segment's mapping: readers keep reading the bytes they were
// given. Those mappings stay listed, since their bytes below pos still come from the
// file, which a later truncation may cut too. A mapping only lookups used (Find,
// ReadAt, FindTimestamp, which the caller orders before TruncateTo) is just dropped.
func (s *Segment) preserveMappedLocked(pos int64) error {
	s.mu.viewed = s.liveViewedLocked()
	for _, w := range s.mu.viewed {
		if m := w.Value(); m != nil { // nil if let go since: nothing to preserve
			if err := m.Preserve(pos, s.mu.size); err != nil {
				return err
			}
		}
	}
	s.mu.mapped, s.mu.viewedCurrent = nil, false
	return nil
}

// liveViewedLocked returns s.mu.viewed without the mappings nobody holds any more.
func (s *Segment) liveViewedLocked() []weak.Pointer[vfs.Mapping] {
	live := s.mu.viewed[:0]
	for _, w := range s.mu.viewed {
		if w.Value() != nil {
			live = append(live, w)
		}
	}
	clear(s.mu.viewed[len(live):])
	return live
}
