package segment

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"

	"github.com/stratalog/strata/index"
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// Truncation reports bytes that recovery cut from the end of a .log.
type Truncation struct {
	Path     string // the .log file
	Position int64  // where the file now ends: the start of the first invalid batch
	Bytes    int64  // how many bytes were removed
	Reason   string // why the batch at Position was invalid
	// Whole is set when the invalid batch was whole (its length fit the file) but
	// failed its CRC, with nothing valid after it. A torn write of a whole batch looks
	// like that, and so does a flipped bit in the last batch fsynced before a crash:
	// the two cannot be told apart without an fsync of the recovery point per write,
	// so the owner reports this one loudly.
	Whole bool
	// Reordered is set when valid batches followed the invalid one and were cut too:
	// only with Options.LazySync, where the OS may have written unflushed pages out
	// of order.
	Reordered bool
}

// Open opens an existing segment whose bytes are known to be flushed: the partition
// was shut down cleanly, or the segment lies wholly below the recovery point. It
// loads both indexes and checks them against the .log (structure, the last offset
// entry names the batch at its position, the batches after it are whole and no entry
// is missing); the indexes are never trusted blindly. If a check fails, both indexes
// are rebuilt from the .log, verifying every batch's CRC. Invalid bytes in the .log
// are then a *errs.CorruptError naming the file and position: a flushed region is
// never truncated silently.
func Open(fsys vfs.FS, dir string, base int64, opts *Options) (*Segment, error) {
	s, size, err := openLog(fsys, dir, base, opts)
	if err != nil {
		return nil, err
	}
	if s.loadIndexes(size) != nil || s.checkTail(size) != nil {
		// The indexes disagree with the .log: rebuild them, trusting nothing.
		if _, err := s.rebuild(size, math.MaxInt64); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.openTxnIndex(size, false); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Recover opens a segment that may end in a torn write: after an unclean shutdown,
// every segment from the one holding the recovery point on. It verifies every batch
// (bounds, magic, CRC, rising offsets), rebuilds both indexes, and truncates the .log
// at the first invalid batch, fsyncing the truncation. Batches below flushedOffset
// were fsynced before the crash: an invalid batch there is a *errs.CorruptError, not
// a truncation. Pass math.MaxInt64 to allow no truncation at all.
func Recover(fsys vfs.FS, dir string, base int64, opts *Options, flushedOffset int64) (*Segment, Truncation, error) {
	s, size, err := openLog(fsys, dir, base, opts)
	if err != nil {
		return nil, Truncation{}, err
	}
	t, err := s.rebuild(size, flushedOffset)
	if err == nil {
		err = s.openTxnIndex(s.Size(), true)
	}
	if err != nil {
		s.Close()
		return nil, Truncation{}, err
	}
	return s, t, nil
}

func openLog(fsys vfs.FS, dir string, base int64, opts *Options) (*Segment, int64, error) {
	log, err := fsys.OpenFile(LogPath(dir, base), os.O_RDWR, 0)
	if err != nil {
		return nil, 0, err
	}
	size, err := log.Size()
	if err != nil {
		log.Close()
		return nil, 0, err
	}
	s := &Segment{fsys: fsys, dir: dir, path: LogPath(dir, base), base: base, opts: opts.withDefaults(), log: log}
	s.resetStateLocked()
	return s, size, nil
}

// loadIndexes opens both index files, checking their structure. A missing index
// file is an error (the caller rebuilds): it must not open as an empty index.
func (s *Segment) loadIndexes(logSize int64) error {
	for _, path := range []string{IndexPath(s.dir, s.base), TimeIndexPath(s.dir, s.base)} {
		if _, err := s.fsys.Stat(path); err != nil {
			return err
		}
	}
	offsets, err := index.OpenOffsetIndex(s.fsys, IndexPath(s.dir, s.base), s.base, logSize, s.opts.indexOptions())
	if err != nil {
		return err
	}
	times, err := index.OpenTimeIndex(s.fsys, TimeIndexPath(s.dir, s.base), s.base, s.opts.indexOptions())
	if err != nil {
		offsets.Close()
		return err
	}
	s.mu.offsets, s.mu.times = offsets, times
	return nil
}

// closeIndexes closes and forgets both indexes, before a rebuild replaces them.
func (s *Segment) closeIndexes() error {
	err := s.closeIndexFilesLocked()
	s.mu.offsets, s.mu.times = nil, nil
	return err
}

// errInconsistent marks an index that disagrees with its log.
var errInconsistent = errors.New("strata/segment: index inconsistent with log")

// checkTail walks the batch headers after the last offset index entry and restores
// the segment's in-memory state from them and the indexes. Any disagreement (the
// entry names another batch, a torn tail, an entry that should exist but does not,
// a time index entry beyond the log) returns an error; the caller rebuilds.
func (s *Segment) checkTail(size int64) error {
	sc := s.newScanner(0, size, false)
	if size > 0 {
		first, _, err := sc.batch()
		if err != nil {
			return err
		}
		s.mu.firstTimestamp = first.MaxTimestamp
		s.mu.firstTerm = batchTerm(&first)
	}
	entryOffset, entryPos, hasEntry := s.mu.offsets.LastEntry()
	if hasEntry {
		sc.pos, sc.next, sc.anchored = entryPos, s.base, false // checkEntry checks the batch there
		s.mu.digestKnown = false                               // the batches before the entry go unread
	} else {
		sc.pos, sc.next = 0, s.base
	}
	if ts, off, ok := s.mu.times.LastEntry(); ok {
		s.mu.maxTimestamp, s.mu.offsetOfMaxTimestamp = ts, off
	}
	lastTime, _, hasTime := s.mu.times.LastEntry()
	if size > 0 && !hasTime {
		// Seal always leaves an entry for the segment's greatest timestamp; without
		// it the greatest timestamp (which retention and time lookups trust) is
		// unknown.
		return errInconsistent
	}
	checkEntry := hasEntry
	for {
		batchPos := sc.pos
		h, _, err := sc.batch()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if checkEntry {
			if h.LastOffset() != entryOffset {
				return errInconsistent
			}
			checkEntry = false
		} else if s.mu.bytesSinceIndex > int64(s.opts.IndexIntervalBytes) {
			return errInconsistent // an entry is missing: the index lags the log
		}
		if h.MaxTimestamp > lastTime {
			return errInconsistent // Seal's last time entry is the segment's greatest
		}
		s.mu.bytesSinceIndex += int64(h.Size())
		s.mu.terms.add(&h)
		s.mu.size = batchPos + int64(h.Size())
		s.mu.next = h.NextOffset()
	}
	if checkEntry {
		return errInconsistent // the last entry points past the log
	}
	if _, off, ok := s.mu.times.LastEntry(); ok && off >= s.mu.next {
		return errInconsistent
	}
	return nil
}

// rebuild recreates both indexes from the .log, verifying every batch. An invalid
// batch whose offsets start at or above flushedOffset is cut off (the .log is
// truncated and fsynced); one below it is corruption.
func (s *Segment) rebuild(size int64, flushedOffset int64) (Truncation, error) {
	if err := s.closeIndexes(); err != nil {
		return Truncation{}, err
	}
	if err := s.createIndexes(); err != nil {
		return Truncation{}, err
	}
	s.resetStateLocked()
	sc := s.newScanner(0, size, true)
	for {
		pos := sc.pos
		h, _, err := sc.batch()
		if err == io.EOF {
			return Truncation{}, nil
		}
		var corrupt *errs.CorruptError
		if errors.As(err, &corrupt) && sc.next >= flushedOffset {
			// A torn write can only be at the tail, and it leaves a batch that is
			// partial or fails its CRC: a batch whose CRC holds but whose offsets do
			// not follow, or an invalid batch followed by a valid one, is damage to
			// written data, never cut silently.
			if sound(sc, pos, size) {
				return Truncation{}, errs.Corruptf(s.path, pos, "%s; the batch is whole and its CRC holds, so this is damage, not a torn tail", corrupt.Reason)
			}
			after, found, err := s.validBatchAfter(pos, size, sc.next)
			if err != nil {
				return Truncation{}, err
			}
			if found && !s.opts.LazySync {
				return Truncation{}, errs.Corruptf(s.path, pos, "%s; a valid batch follows at position %d, so this is damage inside the log, not a torn tail", corrupt.Reason, after)
			}
			t, err := s.truncateTail(pos, size, corrupt.Reason)
			t.Whole, t.Reordered = whole(sc, pos, size), found
			return t, err
		}
		if err != nil {
			return Truncation{}, err
		}
		if err := s.indexBatchLocked(&h, pos); err != nil {
			return Truncation{}, err
		}
	}
}

// validBatchAfter reports whether a valid batch (its header sound, its offsets at or
// above next and within the segment, its CRC right) starts anywhere in the .log
// after position pos, below size, and where the first one does. It runs only when
// recovery is about to cut a tail, so its cost (a read of that tail, a CRC of each
// candidate) is paid only after a crash that left an invalid batch.
func (s *Segment) validBatchAfter(pos, size, next int64) (int64, bool, error) {
	first, found, _, err := validBatchesAfter(s.log, s.base, pos, size, next, s.opts.MaxBatchBytes, true)
	return first, found, err
}

// validBatchesAfter tries every position of file after pos, below size, for a valid
// batch of the segment based at base (its header sound, its offsets at or above next
// and within 2^31 of base, its CRC right): it returns where the first one starts and
// the greatest end offset of all of them (next if none), or stops at the first with
// stopAtFirst.
func validBatchesAfter(file io.ReaderAt, base, pos, size, next int64, maxBatch int, stopAtFirst bool) (first int64, found bool, maxEnd int64, err error) {
	w := &window{file: file}
	maxEnd = next
	for p := pos + 1; p+BatchHeaderSize <= size; p++ {
		head, err := w.bytes(p, BatchHeaderSize, size)
		if err != nil {
			return 0, false, 0, err
		}
		if int8(head[offsetMagic]) != MagicV2 {
			continue
		}
		h, err := ParseBatchHeader(head, maxBatch)
		if err != nil || h.BaseOffset < next || h.LastOffset()-base > maxRelativeOffset || int64(h.Size()) > size-p {
			continue
		}
		batch, err := w.bytes(p, h.Size(), size)
		if err != nil {
			return 0, false, 0, err
		}
		if _, err := VerifyBatch(batch, maxBatch); err != nil {
			continue
		}
		if !found {
			first, found = p, true
		}
		maxEnd = max(maxEnd, h.NextOffset())
		if stopAtFirst {
			break
		}
	}
	return first, found, maxEnd, nil
}

// whole reports whether the invalid batch at pos has a length that fits below size:
// a whole batch that failed its CRC or a check of its header, not a partial one.
func whole(sc *scanner, pos, size int64) bool {
	head, err := sc.w.bytes(pos, BatchHeaderSize, size)
	if err != nil {
		return false
	}
	n := int64(int32(binary.BigEndian.Uint32(head[offsetBatchLength:]))) + BatchOverhead
	return n >= BatchHeaderSize && n <= int64(sc.maxBatch) && n <= size-pos
}

// sound reports whether the batch at pos is whole and passes VerifyBatch (its CRC
// holds): then what made the scanner refuse it is where it sits, its offsets.
func sound(sc *scanner, pos, size int64) bool {
	if !whole(sc, pos, size) {
		return false
	}
	head, _ := sc.w.bytes(pos, BatchHeaderSize, size)
	n := int(int32(binary.BigEndian.Uint32(head[offsetBatchLength:]))) + BatchOverhead
	batch, err := sc.w.bytes(pos, n, size)
	if err != nil {
		return false
	}
	_, err = VerifyBatch(batch, sc.maxBatch)
	return err == nil
}

func (s *Segment) truncateTail(pos, size int64, reason string) (Truncation, error) {
	if err := s.log.Truncate(pos); err != nil {
		return Truncation{}, err
	}
	if err := s.log.Sync(); err != nil {
		return Truncation{}, err
	}
	return Truncation{Path: s.path, Position: pos, Bytes: size - pos, Reason: reason}, nil
}

func (s *Segment) newScanner(pos, end int64, verify bool) *scanner {
	return &scanner{
		w:        &window{file: s.log},
		path:     s.path,
		base:     s.base,
		pos:      pos,
		end:      end,
		next:     s.base,
		maxBatch: s.opts.MaxBatchBytes,
		verify:   verify,
		dense:    s.Dense(),
		anchored: pos == 0,
	}
}
