package segment

import (
	"errors"
	"io"
	"runtime"

	"github.com/stratalog/strata/internal/errs"
)

// TimestampOffset names one record by its offset and timestamp, with the partition
// leader epoch of its batch: MaxTimestampRecord's answer.
type TimestampOffset struct {
	Offset      int64
	Timestamp   int64 // ms since the Unix epoch
	LeaderEpoch int32 // the batch's partitionLeaderEpoch (-1 if it has none)
}

// MaxTimestampBound returns the greatest batch max timestamp of the segment and
// the last offset of the first batch that holds it (Kafka's maxTimestampSoFar and
// shallowOffsetOfMaxTimestampSoFar; for a segment read back from disk, the time
// index's last entry), or -1 and the base offset if the segment holds no
// timestamp. Batches being appended beyond what the caller may read count too, so
// the timestamp bounds every record of the segment from above.
func (s *Segment) MaxTimestampBound() (timestamp, lastOffset int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.maxTimestamp, s.mu.offsetOfMaxTimestamp
}

// MaxTimestampRecord returns the first record with the greatest timestamp among
// the records at or above offset from in the batches below position end (a
// position the caller knows to be committed): Kafka's ListOffsets max-timestamp
// query (KIP-734) within one segment. Control records count, as in Kafka; batches
// that compaction emptied, and timestamps below 0, do not. found is false if no
// record qualifies.
//
// Where it can, it reads one batch only: the one MaxTimestampBound names, when it
// lies below end and holds a record at or above from with that timestamp (a
// sealed segment whose records all lie at or above from). Otherwise it scans the
// batch headers from from to end, and decodes the batch holding from and the one
// chosen.
func (s *Segment) MaxTimestampRecord(from, end int64) (r TimestampOffset, found bool, err error) {
	s.ensureMapped(end)
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return TimestampOffset{}, false, errClosed
	}
	bound, boundLast := s.mu.maxTimestamp, s.mu.offsetOfMaxTimestamp
	s.mu.RUnlock()
	if bound < 0 {
		return TimestampOffset{}, false, nil
	}
	if boundLast >= from {
		pos, h, ok, err := s.find(boundLast, end)
		if err != nil {
			return TimestampOffset{}, false, err
		}
		if ok && h.LastOffset() == boundLast && h.MaxTimestamp == bound && h.RecordCount > 0 {
			// Every batch before this one has a smaller max timestamp: its first
			// record of the bound at or above from is the answer.
			off, ok, err := s.firstRecordAtOrAfter(pos, h, bound, from)
			if err != nil || ok {
				return TimestampOffset{Offset: off, Timestamp: bound, LeaderEpoch: h.PartitionLeaderEpoch}, ok, err
			}
		}
	}
	return s.scanMaxTimestamp(from, end)
}

// scanMaxTimestamp is MaxTimestampRecord by a scan of the batch headers from the
// offset index entry at or below from.
func (s *Segment) scanMaxTimestamp(from, end int64) (TimestampOffset, bool, error) {
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return TimestampOffset{}, false, errClosed
	}
	entryOffset, start := s.mu.offsets.Lookup(from)
	file, chunk := s.readerLocked(end)
	s.mu.RUnlock()
	if start >= end {
		return TimestampOffset{}, false, nil
	}
	w := windowPool.Get().(*window)
	defer func() { w.file = nil; windowPool.Put(w) }()
	w.file, w.buf, w.start, w.chunk = file, w.buf[:0], 0, chunk
	r, found, err := s.scanForMaxTimestamp(from, s.lookupScanner(w, entryOffset, start, end))
	if err != nil && start > 0 && errors.Is(err, errs.ErrCorrupt) {
		// As in find: the index may be what is damaged; the scan from the start decides.
		if r, found, err2 := s.scanForMaxTimestamp(from, s.lookupScanner(w, s.base, 0, end)); err2 == nil {
			return r, found, nil
		}
	}
	return r, found, err
}

// scanForMaxTimestamp scans batches with sc for the first record at or above
// offset from with the greatest timestamp.
func (s *Segment) scanForMaxTimestamp(from int64, sc scanner) (TimestampOffset, bool, error) {
	var best TimestampOffset
	found := false
	var bestPos int64 = -1 // the batch to decode for the record, if not known yet
	var bestHeader BatchHeader
	for {
		pos := sc.pos
		h, _, err := sc.batch()
		if err == io.EOF {
			break
		}
		if err != nil {
			return TimestampOffset{}, false, err
		}
		if h.LastOffset() < from || h.RecordCount == 0 || h.MaxTimestamp < 0 || (found && h.MaxTimestamp <= best.Timestamp) {
			continue
		}
		if h.BaseOffset >= from {
			best, found = TimestampOffset{Timestamp: h.MaxTimestamp, LeaderEpoch: h.PartitionLeaderEpoch}, true
			bestPos, bestHeader = pos, h
			continue
		}
		// The batch holds records below from: only those at or above it count.
		r, ok, err := s.maxRecordFrom(pos, h, from)
		if err != nil {
			return TimestampOffset{}, false, err
		}
		if ok && (!found || r.Timestamp > best.Timestamp) {
			best, found, bestPos = r, true, -1
		}
	}
	if !found || bestPos < 0 {
		return best, found, nil
	}
	off, ok, err := s.firstRecordAtOrAfter(bestPos, bestHeader, best.Timestamp, from)
	best.Offset = off
	return best, ok, err
}

// maxRecordFrom decodes the batch at pos and returns its first record at or above
// offset from with the greatest timestamp among those.
func (s *Segment) maxRecordFrom(pos int64, h BatchHeader, from int64) (TimestampOffset, bool, error) {
	best := TimestampOffset{LeaderEpoch: h.PartitionLeaderEpoch}
	found := false
	err := s.decodeBatch(pos, h, func(r *Record) bool {
		if r.Offset >= from && r.Timestamp >= 0 && (!found || r.Timestamp > best.Timestamp) {
			best.Offset, best.Timestamp, found = r.Offset, r.Timestamp, true
		}
		return true
	})
	return best, found && err == nil, err
}

// decodeBatch decodes the batch at pos, described by h, and calls visit with each
// of its records until visit returns false. The batch is read from the mapping
// when there is one, copied otherwise, and its CRC checked. (firstRecordAtOrAfter,
// on the path of time lookups, keeps its own loop: a Record handed to visit
// escapes to the heap.)
func (s *Segment) decodeBatch(pos int64, h BatchHeader, visit func(*Record) bool) error {
	buf, m, ok := s.View(pos, h.Size())
	defer runtime.KeepAlive(m) // buf is valid while m is held
	if !ok {
		buf = make([]byte, h.Size())
		if _, err := s.ReadAt(buf, pos); err != nil {
			return err
		}
	}
	if _, err := VerifyBatch(buf, s.opts.MaxBatchBytes); err != nil {
		return corruptAt(s.path, pos, err)
	}
	d := decoderPool.Get().(*Decoder)
	defer decoderPool.Put(d)
	defer d.forget()
	d.MaxDecompressedBytes = MaxDecompressedFor(s.opts.MaxBatchBytes)
	if err := d.Reset(buf); err != nil {
		return corruptAt(s.path, pos, err)
	}
	var r Record
	for {
		ok, err := d.Next(&r)
		if err != nil {
			return corruptAt(s.path, pos, err)
		}
		if !ok || !visit(&r) {
			return nil
		}
	}
}
