package index

import (
	"math"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// OffsetIndex is a segment's sparse offset index (.index file): entries that map an
// offset to the .log position of the batch holding it, searched to find where a read
// at an offset should start scanning.
//
// An OffsetIndex is not synchronized; see the package documentation.
type OffsetIndex struct {
	base       int64
	maxEntries int
	entries    []offsetEntry // the source of truth for lookups
	file       indexFile
}

// OpenOffsetIndex opens, or creates if missing, the .index file at path of a segment
// whose first offset is base, and loads every entry.
//
// It checks the file's structure: no bigger than opts.MaxBytes, size a multiple of
// OffsetEntrySize, relative offsets and positions strictly increasing, no all-zero
// entry after the first (a preallocated or torn file), and, if logSize >= 0, every
// position below logSize (the size of the segment's .log). On a violation it returns
// nil and a *errs.CorruptError naming path and the byte position of the first bad
// entry, without changing the file; the caller then rebuilds the index from the log
// with CreateOffsetIndex. base must be >= 0.
func OpenOffsetIndex(fsys vfs.FS, path string, base int64, logSize int64, opts *Options) (*OffsetIndex, error) {
	return openOffsetIndex(fsys, path, base, logSize, opts, false)
}

// CreateOffsetIndex creates the .index file at path, truncating any existing one, and
// returns an empty index for a segment whose first offset is base: how an index is
// rebuilt.
func CreateOffsetIndex(fsys vfs.FS, path string, base int64, opts *Options) (*OffsetIndex, error) {
	return openOffsetIndex(fsys, path, base, -1, opts, true)
}

func openOffsetIndex(fsys vfs.FS, path string, base, logSize int64, opts *Options, truncate bool) (*OffsetIndex, error) {
	maxEntries, err := opts.maxEntries(OffsetEntrySize)
	if err != nil {
		return nil, err
	}
	if base < 0 {
		return nil, errorf("strata/index: negative base offset %d: %w", base, ErrInvalidArgument)
	}
	file, size, err := openIndexFile(fsys, path, OffsetEntrySize, maxEntries, truncate)
	if err != nil {
		return nil, err
	}
	x := &OffsetIndex{base: base, maxEntries: maxEntries, file: *file}
	if err := x.load(size, logSize); err != nil {
		_ = x.file.file.Close()
		return nil, err
	}
	x.file.flushed = len(x.entries)
	if err := x.file.park(); err != nil {
		return nil, err
	}
	return x, nil
}

// load reads and checks the size bytes of the file.
func (x *OffsetIndex) load(size, logSize int64) error {
	count := size / OffsetEntrySize // size <= MaxBytes was checked: bounded
	x.entries = make([]offsetEntry, 0, count)
	err := x.file.load(count*OffsetEntrySize, func(chunk []byte, position int64) error {
		for i := 0; i < len(chunk); i, position = i+OffsetEntrySize, position+OffsetEntrySize {
			raw := chunk[i : i+OffsetEntrySize]
			e := readOffsetEntry(raw)
			if err := x.checkLoaded(e, raw, position, logSize); err != nil {
				return err
			}
			x.entries = append(x.entries, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if partial := size % OffsetEntrySize; partial != 0 {
		return errs.Corruptf(x.file.path, size-partial, "partial entry: %d trailing bytes", partial)
	}
	return nil
}

// checkLoaded checks entry e, read from raw at position, against the entries before it.
func (x *OffsetIndex) checkLoaded(e offsetEntry, raw []byte, position, logSize int64) error {
	path := x.file.path
	if n := len(x.entries); n > 0 {
		if allZero(raw) {
			return errs.Corruptf(path, position, "zero-filled entry after %d entries (preallocated or torn file)", n)
		}
		last := x.entries[n-1]
		if e.relativeOffset <= last.relativeOffset {
			return errs.Corruptf(path, position, "relative offset %d not greater than previous %d",
				e.relativeOffset, last.relativeOffset)
		}
		if e.position <= last.position {
			return errs.Corruptf(path, position, "log position %d not greater than previous %d",
				e.position, last.position)
		}
	}
	if int64(e.relativeOffset) > math.MaxInt64-x.base {
		return errs.Corruptf(path, position, "relative offset %d overflows base offset %d", e.relativeOffset, x.base)
	}
	if logSize >= 0 && int64(e.position) >= logSize {
		return errs.Corruptf(path, position, "log position %d not below log size %d", e.position, logSize)
	}
	return nil
}

// Append adds an entry mapping offset (absolute) to position in the .log, in memory
// only: Flush, Sync or Close writes it. offset must be greater than the last entry's
// (and at least Base), position greater than the last entry's (the first entry may be
// at 0); offset-Base must fit MaxRelativeOffset and position MaxPosition. A violation
// is ErrInvalidArgument; ErrIndexFull when the index holds MaxBytes already; ErrClosed
// after Close; the sticky error after a failed write. Nothing changes on error.
func (x *OffsetIndex) Append(offset, position int64) error {
	if err := x.file.checkWritable(); err != nil {
		return err
	}
	if offset < x.base || offset-x.base > MaxRelativeOffset {
		return errorf("strata/index: offset %d outside [%d, %d]: %w",
			offset, x.base, x.base+MaxRelativeOffset, ErrInvalidArgument)
	}
	if position < 0 || position > MaxPosition {
		return errorf("strata/index: position %d outside [0, %d]: %w", position, int64(MaxPosition), ErrInvalidArgument)
	}
	e := offsetEntry{relativeOffset: uint32(offset - x.base), position: uint32(position)}
	if n := len(x.entries); n > 0 {
		last := x.entries[n-1]
		if e.relativeOffset <= last.relativeOffset {
			return errorf("strata/index: offset %d not greater than last entry's %d: %w",
				offset, x.base+int64(last.relativeOffset), ErrInvalidArgument)
		}
		if e.position <= last.position {
			return errorf("strata/index: position %d not greater than last entry's %d: %w",
				position, last.position, ErrInvalidArgument)
		}
	}
	if len(x.entries) >= x.maxEntries {
		return ErrIndexFull
	}
	x.entries = append(x.entries, e)
	return nil
}

// Lookup returns the entry with the greatest offset <= offset: a read of offset may
// start scanning the .log at position. With no such entry (offset below the first
// entry's, or an empty index) it returns (Base(), 0), the start of the segment.
// It does not allocate.
func (x *OffsetIndex) Lookup(offset int64) (entryOffset, position int64) {
	if offset < x.base {
		return x.base, 0
	}
	target := uint32(MaxRelativeOffset)
	if offset-x.base < MaxRelativeOffset {
		target = uint32(offset - x.base)
	}
	// Binary search for the first entry whose relative offset > target; the answer
	// is the one before it. Written by hand, without sort.Search's closure, to keep
	// the hot path free of calls and allocations.
	low, high := 0, len(x.entries)
	for low < high {
		middle := int(uint(low+high) >> 1)
		if x.entries[middle].relativeOffset <= target {
			low = middle + 1
		} else {
			high = middle
		}
	}
	if low == 0 {
		return x.base, 0
	}
	e := x.entries[low-1]
	return x.base + int64(e.relativeOffset), int64(e.position)
}

// Len returns the number of entries.
func (x *OffsetIndex) Len() int { return len(x.entries) }

// Entry returns entry i, 0 <= i < Len() (it panics otherwise, like a slice index).
func (x *OffsetIndex) Entry(i int) (offset, position int64) {
	e := x.entries[i]
	return x.base + int64(e.relativeOffset), int64(e.position)
}

// LastEntry returns the last entry; ok is false if the index is empty.
func (x *OffsetIndex) LastEntry() (offset, position int64, ok bool) {
	if len(x.entries) == 0 {
		return x.base, 0, false
	}
	offset, position = x.Entry(len(x.entries) - 1)
	return offset, position, true
}

// IsFull reports whether the index has no room for another entry.
func (x *OffsetIndex) IsFull() bool { return len(x.entries) >= x.maxEntries }

// MaxEntries returns how many entries the index can hold (Options.MaxBytes /
// OffsetEntrySize).
func (x *OffsetIndex) MaxEntries() int { return x.maxEntries }

// TruncateTo removes every entry whose offset is >= offset, in memory and in the file:
// used when the log is truncated to offset. The in-memory cut happens even when the
// file cannot be changed (after Close, or after a failed write, whose error it
// returns), so that lookups never point past a truncated log.
func (x *OffsetIndex) TruncateTo(offset int64) error {
	// First entry with relative offset >= offset-base.
	n := 0
	if offset > x.base {
		target := uint64(offset - x.base)
		low, high := 0, len(x.entries)
		for low < high {
			middle := int(uint(low+high) >> 1)
			if uint64(x.entries[middle].relativeOffset) < target {
				low = middle + 1
			} else {
				high = middle
			}
		}
		n = low
	}
	return x.truncateEntries(n)
}

// TruncateToPosition removes every entry whose position is >= position, in memory and
// in the file: used when the log is truncated to that size. As TruncateTo, the
// in-memory cut always happens.
func (x *OffsetIndex) TruncateToPosition(position int64) error {
	n := 0
	if position > 0 {
		low, high := 0, len(x.entries)
		for low < high {
			middle := int(uint(low+high) >> 1)
			if int64(x.entries[middle].position) < position {
				low = middle + 1
			} else {
				high = middle
			}
		}
		n = low
	}
	return x.truncateEntries(n)
}

// Reset removes every entry and truncates the file to 0 bytes.
func (x *OffsetIndex) Reset() error { return x.truncateEntries(0) }

func (x *OffsetIndex) truncateEntries(n int) error {
	if n < len(x.entries) {
		x.entries = x.entries[:n]
	}
	return x.file.truncate(n)
}

// Flush writes the entries appended since the last flush to the file with one
// WriteAt. It does not fsync.
func (x *OffsetIndex) Flush() error {
	if err := x.file.checkWritable(); err != nil {
		return err
	}
	pending := x.entries[x.file.flushed:]
	if len(pending) == 0 {
		return nil
	}
	b := x.file.grow(len(pending))
	for i, e := range pending {
		putOffsetEntry(b[i*OffsetEntrySize:], e)
	}
	return x.file.writeTail(b)
}

// Sync flushes, then fsyncs the file.
func (x *OffsetIndex) Sync() error {
	if err := x.Flush(); err != nil {
		return err
	}
	return x.file.sync()
}

// Close flushes and closes the file. The entries stay readable (Lookup, Entry) but
// every write returns ErrClosed. A second Close returns nil. After a failed write
// Close empties the file (an empty index is always valid) and returns that error.
func (x *OffsetIndex) Close() error {
	if x.file.closed {
		return nil
	}
	return x.file.close(x.Flush())
}

// Rename renames the file to newPath (open or closed), as Kafka's .cleaned and .swap
// suffixes need. The caller syncs the directory.
func (x *OffsetIndex) Rename(newPath string) error { return x.file.rename(newPath) }

// Remove closes the index without flushing and deletes its file (a missing file is not
// an error). The caller syncs the directory.
func (x *OffsetIndex) Remove() error {
	x.entries = nil
	return x.file.remove()
}

// Path returns the file's current path.
func (x *OffsetIndex) Path() string { return x.file.path }

// Base returns the segment's base offset, which entries are relative to.
func (x *OffsetIndex) Base() int64 { return x.base }

// SizeBytes returns the size the file has once flushed: Len() * OffsetEntrySize.
func (x *OffsetIndex) SizeBytes() int64 { return int64(len(x.entries)) * OffsetEntrySize }
