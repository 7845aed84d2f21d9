package segment

import (
	"errors"

	"github.com/stratalog/strata/internal/vfs"
)

// MapForReads maps the .log into memory, if the filesystem can (vfs.Mapper), so that
// lookups and reads of this segment cost no system call. Call it only once the
// segment is sealed: the mapping holds the .log as it is now. TruncateTo and Close
// unmap it. On a filesystem that cannot map, it does nothing.
func (s *Segment) MapForReads() error {
	mapper, ok := s.fsys.(vfs.Mapper)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed || s.mu.mapped != nil || s.mu.size == 0 {
		return nil
	}
	m, err := mapper.MapReadOnly(s.path)
	if err != nil {
		return err
	}
	if int64(m.Len()) < s.mu.size {
		return errors.Join(errors.New("strata/segment: mapped log shorter than the segment"), m.Close())
	}
	s.mu.mapped = m
	return nil
}

func (s *Segment) unmapLocked() error {
	if s.mu.mapped == nil {
		return nil
	}
	err := s.mu.mapped.Close()
	s.mu.mapped = nil
	return err
}
