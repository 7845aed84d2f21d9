package segment

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/stratalog/strata/index"
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// Limits that follow from the index entry layout (Format): positions are uint32, and
// relative offsets stay within int32 as in Kafka, so Kafka's tools read our indexes.
const (
	maxRelativeOffset = math.MaxInt32
	// MaxSegmentBytes is the largest size a segment may reach: positions in the
	// .index are 32-bit. Kafka caps segment.bytes at 2 GiB for the same reason.
	MaxSegmentBytes = math.MaxInt32
	// noTimestamp is Kafka's "no timestamp" value.
	noTimestamp = -1
)

// Segment is one .log file with its .index, .timeindex and, once a transaction
// aborted in it, .txnindex. It is safe for one writer
// (Append, Seal, Truncate*) and any number of concurrent readers (Find, ReadAt,
// FindTimestamp and the accessors). Callers bound reads by a position they know to
// be committed; a segment never exposes bytes beyond what Append returned.
type Segment struct {
	fsys vfs.FS
	dir  string
	path string // the .log file
	// suffix follows the usual names of all three files: "" for a segment of the
	// log, CleanedSuffix or SwapSuffix while compaction builds and installs one.
	suffix string
	base   int64
	opts   Options
	log    vfs.File
	// gapped is set by AllowGaps: the segment is no longer Dense.
	gapped atomic.Bool
	// send orders sendfile(2) calls of FileRanges (readers) against TruncateTo
	// (writer), which counts its truncations under it before it cuts the file
	// (file_range.go). Taken after mu where both are held.
	send struct {
		sync.RWMutex
		truncations uint64
	}

	mu struct {
		sync.RWMutex
		offsets              *index.OffsetIndex
		times                *index.TimeIndex
		size                 int64 // bytes in the .log
		next                 int64 // offset after the last batch's last offset
		maxTimestamp         int64 // greatest batch max timestamp, noTimestamp if none
		offsetOfMaxTimestamp int64
		firstTimestamp       int64 // first batch's max timestamp, noTimestamp if empty
		bytesSinceIndex      int64
		terms                terms  // of the batches seen (digest.go); sum meaningful only with digestKnown
		firstTerm            uint64 // the first batch's term, if size > 0
		digestKnown          bool
		mapped               *vfs.Mapping                // the .log in memory (View, lookups, MapForReads), or nil
		viewedCurrent        bool                        // View handed mapped out: it is in viewed
		viewed               []weak.Pointer[vfs.Mapping] // mappings View handed out
		mapFailed            bool                        // mapping failed, or a truncation did: read through the file
		mapErr               error                       // why mapping failed, until TakeMapError
		txnFile              vfs.File                    // the .txnindex, or nil (none yet, or closed)
		aborted              []AbortedTxn                // the .txnindex's entries (txnindex.go)
		closed               bool
	}
}

// Create creates the files of a new, empty segment with base offset base in dir,
// truncating any leftovers. The caller fsyncs dir.
func Create(fsys vfs.FS, dir string, base int64, opts *Options) (*Segment, error) {
	return create(fsys, dir, base, opts, "")
}

func create(fsys vfs.FS, dir string, base int64, opts *Options, suffix string) (*Segment, error) {
	if base < 0 {
		return nil, fmt.Errorf("strata/segment: base offset %d: %w", base, errs.ErrInvalidArgument)
	}
	o := opts.withDefaults()
	log, err := fsys.OpenFile(LogPath(dir, base)+suffix, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	s := &Segment{fsys: fsys, dir: dir, path: LogPath(dir, base) + suffix, suffix: suffix, base: base, opts: o, log: log}
	if err := removeIfExists(fsys, TxnIndexPath(dir, base)+suffix); err != nil {
		log.Close()
		return nil, err
	}
	if err := s.createIndexes(); err != nil {
		log.Close()
		return nil, err
	}
	s.resetStateLocked()
	return s, nil
}

func (s *Segment) createIndexes() error {
	offsets, err := index.CreateOffsetIndex(s.fsys, IndexPath(s.dir, s.base)+s.suffix, s.base, s.opts.indexOptions())
	if err != nil {
		return err
	}
	times, err := index.CreateTimeIndex(s.fsys, TimeIndexPath(s.dir, s.base)+s.suffix, s.base, s.opts.indexOptions())
	if err != nil {
		offsets.Close()
		return err
	}
	s.mu.offsets, s.mu.times = offsets, times
	return nil
}

func (s *Segment) resetStateLocked() {
	s.mu.size = 0
	s.mu.next = s.base
	s.mu.maxTimestamp = noTimestamp
	s.mu.offsetOfMaxTimestamp = s.base
	s.mu.firstTimestamp = noTimestamp
	s.mu.bytesSinceIndex = 0
	s.mu.terms, s.mu.firstTerm, s.mu.digestKnown = terms{}, 0, true // of no batch: a read from an index entry clears digestKnown
}

// Dense reports whether the segment's batches follow each other without offset gaps
// (Options.Dense, unless AllowGaps was called).
func (s *Segment) Dense() bool { return s.opts.Dense && !s.gapped.Load() }

// AllowGaps makes a Dense segment accept batches that begin above the offset after
// the one before, as a replica copying a compacted leader's log must. Reads check
// less from then on; the owner must also open the segment without Options.Dense
// from now on.
func (s *Segment) AllowGaps() { s.gapped.Store(true) }

// Base returns the segment's base offset: the first offset it may hold.
func (s *Segment) Base() int64 { return s.base }

// Dir returns the directory holding the segment's files.
func (s *Segment) Dir() string { return s.dir }

// Path returns the path of the segment's .log file.
func (s *Segment) Path() string { return s.path }

// Size returns the number of bytes in the .log.
func (s *Segment) Size() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.size
}

// NextOffset returns the offset after the segment's last record (Base if empty).
func (s *Segment) NextOffset() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.next
}

// MaxTimestamp returns the greatest timestamp in the segment (ms), or -1 if it holds
// none.
func (s *Segment) MaxTimestamp() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.maxTimestamp
}

// FirstTimestamp returns the max timestamp of the segment's first batch (what Kafka
// rolls by), or -1 if the segment is empty.
func (s *Segment) FirstTimestamp() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.firstTimestamp
}

// IndexEntries returns the number of entries in the offset and time indexes.
func (s *Segment) IndexEntries() (offsets, times int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.offsets.Len(), s.mu.times.Len()
}

// Fits reports whether a batch of size bytes whose last offset is lastOffset can be
// appended: both indexes have room (the time index keeps one slot for Seal), relative
// offsets and positions stay within 32 bits.
func (s *Segment) Fits(lastOffset int64, size int) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.fitsLocked(lastOffset, size)
}

func (s *Segment) fitsLocked(lastOffset int64, size int) bool {
	if lastOffset-s.base > maxRelativeOffset || s.mu.size+int64(size) > MaxSegmentBytes {
		return false
	}
	return !s.mu.offsets.IsFull() && s.mu.times.Len()+2 <= s.opts.MaxIndexBytes/index.TimeEntrySize
}

// Append writes batch, a whole RecordBatch already stamped with its final base
// offset and described by h, at the end of the .log, and adds index entries every
// IndexIntervalBytes. It returns ErrFull, writing nothing, if the batch does not fit.
// After a write error the file may hold part of the batch beyond Size; the caller
// must stop appending (it fails closed) and recovery removes the tail.
func (s *Segment) Append(batch []byte, h *BatchHeader) error {
	s.mu.RLock()
	pos, next, closed := s.mu.size, s.mu.next, s.mu.closed
	fits := s.fitsLocked(h.LastOffset(), len(batch))
	s.mu.RUnlock()
	if closed {
		return errs.ErrClosed
	}
	if h.BaseOffset < next {
		return fmt.Errorf("strata/segment: batch base offset %d below next offset %d: %w", h.BaseOffset, next, errs.ErrInvalidArgument)
	}
	if !fits {
		return ErrFull
	}
	if _, err := s.log.WriteAt(batch, pos); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.indexBatchLocked(h, pos)
}

// indexBatchLocked records a batch written at pos: sizes, offsets, timestamps and,
// every IndexIntervalBytes, an entry in each index (Kafka's LogSegment.append rule).
func (s *Segment) indexBatchLocked(h *BatchHeader, pos int64) error {
	if h.MaxTimestamp > s.mu.maxTimestamp {
		s.mu.maxTimestamp = h.MaxTimestamp
		s.mu.offsetOfMaxTimestamp = h.LastOffset()
	}
	if s.mu.size == 0 {
		s.mu.firstTimestamp = h.MaxTimestamp
	}
	if s.mu.bytesSinceIndex > int64(s.opts.IndexIntervalBytes) {
		// A full index (only possible when rebuilding with a smaller MaxIndexBytes
		// than the segment was written with) just stops growing: lookups past its
		// last entry scan further, and stay correct.
		if err := s.mu.offsets.Append(h.LastOffset(), pos); err != nil && !errors.Is(err, index.ErrIndexFull) {
			return err
		}
		if err := s.mu.times.MaybeAppend(s.mu.maxTimestamp, s.mu.offsetOfMaxTimestamp); err != nil && !errors.Is(err, index.ErrIndexFull) {
			return err
		}
		s.mu.bytesSinceIndex = 0
	}
	s.mu.bytesSinceIndex += int64(h.Size())
	if s.mu.size == 0 {
		s.mu.firstTerm = batchTerm(h)
	}
	s.mu.terms.add(h)
	s.mu.size = pos + int64(h.Size())
	s.mu.next = h.NextOffset()
	return nil
}

// Sync fsyncs the .log. Index files are caches and are not synced here.
func (s *Segment) Sync() error { return s.log.Sync() }

// Seal prepares the segment for being read-only: it adds a last time index entry
// for the segment's greatest timestamp (so that it survives reopening), writes both
// indexes and fsyncs all three files.
func (s *Segment) Seal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return errs.ErrClosed
	}
	if s.mu.maxTimestamp != noTimestamp {
		if err := s.mu.times.MaybeAppend(s.mu.maxTimestamp, s.mu.offsetOfMaxTimestamp); err != nil && !errors.Is(err, index.ErrIndexFull) {
			return err
		}
	}
	if err := s.mu.offsets.Sync(); err != nil {
		return err
	}
	if err := s.mu.times.Sync(); err != nil {
		return err
	}
	if err := s.syncTxnIndexLocked(); err != nil {
		return err
	}
	return s.log.Sync()
}

// Close writes the indexes and closes all files, without fsyncing. It is idempotent.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return nil
	}
	s.mu.closed = true
	s.mu.mapped = nil // unmapped once no reader holds it
	return errors.Join(s.closeIndexFilesLocked(), s.closeTxnIndexLocked(), s.log.Close())
}

// CloseIndexes writes and closes the segment's index files, keeping their entries
// for lookups and the .log open for reads: for a caller about to delete the files by
// name while readers still use the segment (compaction's swap). An index file closed
// between writes is reopened by name, so without this a later Close could write the
// old entries into a new file of the same name.
func (s *Segment) CloseIndexes() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.closeIndexFilesLocked(), s.closeTxnIndexLocked())
}

// closeIndexFilesLocked writes and closes the index files that are open, keeping
// their entries. An index may be nil: a rebuild that failed to create it leaves none,
// and the segment's cleanup must not fault on that.
func (s *Segment) closeIndexFilesLocked() error {
	var err error
	if s.mu.offsets != nil {
		err = s.mu.offsets.Close()
	}
	if s.mu.times != nil {
		err = errors.Join(err, s.mu.times.Close())
	}
	return err
}

// Remove closes the segment and deletes its files (the .log first, so that a crash
// in between leaves only orphan indexes, which Open of a partition removes). The
// caller fsyncs the directory.
func (s *Segment) Remove() error {
	if err := s.Close(); err != nil {
		return err
	}
	if err := s.fsys.Remove(s.path); err != nil {
		return err
	}
	return errors.Join(
		removeIfExists(s.fsys, IndexPath(s.dir, s.base)+s.suffix),
		removeIfExists(s.fsys, TimeIndexPath(s.dir, s.base)+s.suffix),
		removeIfExists(s.fsys, TxnIndexPath(s.dir, s.base)+s.suffix))
}

func removeIfExists(fsys vfs.FS, path string) error {
	err := fsys.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
