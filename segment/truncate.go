package segment

import "math"

// TruncateTo removes every batch holding an offset >= offset from the segment: the
// .log is cut at the start of the first such batch (a batch straddling offset goes
// whole) and fsynced, and index entries at or past the cut are dropped.
//
// Bytes that View handed out stay valid for their holders (they are preserved
// first), and FileRanges made before stop sending from the file (SendTo); Find, ReadAt and FindTimestamp must not run concurrently with it on the
// bytes it removes. After an error the segment is read through the file only.
func (s *Segment) TruncateTo(offset int64) (err error) {
	pos, h, found, err := s.find(offset, s.Size())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !found {
		return nil
	}
	defer func() {
		if err != nil { // the file's size and s.mu.size may disagree, and the current
			// mapping may be partly preserved: never map the segment again
			s.mu.mapFailed, s.mu.mapped, s.mu.viewedCurrent = true, nil, false
		}
	}()
	if err := s.preserveMappedLocked(pos); err != nil { // before the file shrinks
		return err
	}
	s.countTruncation() // before the file shrinks: FileRanges stop sending from it
	if err := s.log.Truncate(pos); err != nil {
		return err
	}
	if err := s.mu.offsets.TruncateToPosition(pos); err != nil {
		return err
	}
	if err := s.mu.times.TruncateTo(h.BaseOffset); err != nil {
		return err
	}
	if err := s.dropAbortedTxnsFromLocked(h.BaseOffset); err != nil {
		return err
	}
	s.resetStateLocked()
	if s.checkTail(pos) != nil {
		if _, err := s.rebuild(pos, math.MaxInt64); err != nil {
			return err
		}
	}
	return s.log.Sync()
}
