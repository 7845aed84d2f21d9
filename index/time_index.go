package index

import (
	"math"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// TimeIndex is a segment's time index (.timeindex file): entries (timestamp, offset)
// with strictly increasing timestamps, each saying that no record below offset has a
// timestamp above timestamp, searched to find where a search by timestamp should start.
//
// A TimeIndex is not synchronized; see the package documentation.
type TimeIndex struct {
	base       int64
	maxEntries int
	entries    []timeEntry // the source of truth for lookups
	file       indexFile
}

// OpenTimeIndex opens, or creates if missing, the .timeindex file at path of a segment
// whose first offset is base, and loads every entry.
//
// It checks the file's structure: no bigger than opts.MaxBytes, size a multiple of
// TimeEntrySize, timestamps strictly increasing, relative offsets non-decreasing, no
// all-zero entry after the first (a preallocated or torn file). On a violation it
// returns nil and a *errs.CorruptError naming path and the byte position of the first
// bad entry, without changing the file; the caller then rebuilds the index with
// CreateTimeIndex. base must be >= 0.
func OpenTimeIndex(fsys vfs.FS, path string, base int64, opts *Options) (*TimeIndex, error) {
	return openTimeIndex(fsys, path, base, opts, false)
}

// CreateTimeIndex creates the .timeindex file at path, truncating any existing one, and
// returns an empty index for a segment whose first offset is base.
func CreateTimeIndex(fsys vfs.FS, path string, base int64, opts *Options) (*TimeIndex, error) {
	return openTimeIndex(fsys, path, base, opts, true)
}

func openTimeIndex(fsys vfs.FS, path string, base int64, opts *Options, truncate bool) (*TimeIndex, error) {
	maxEntries, err := opts.maxEntries(TimeEntrySize)
	if err != nil {
		return nil, err
	}
	if base < 0 {
		return nil, errorf("strata/index: negative base offset %d: %w", base, ErrInvalidArgument)
	}
	file, size, err := openIndexFile(fsys, path, TimeEntrySize, maxEntries, truncate)
	if err != nil {
		return nil, err
	}
	t := &TimeIndex{base: base, maxEntries: maxEntries, file: *file}
	if err := t.load(size); err != nil {
		_ = t.file.file.Close()
		return nil, err
	}
	t.file.flushed = len(t.entries)
	if err := t.file.park(); err != nil {
		return nil, err
	}
	return t, nil
}

// load reads and checks the size bytes of the file.
func (t *TimeIndex) load(size int64) error {
	count := size / TimeEntrySize // size <= MaxBytes was checked: bounded
	t.entries = make([]timeEntry, 0, count)
	err := t.file.load(count*TimeEntrySize, func(chunk []byte, position int64) error {
		for i := 0; i < len(chunk); i, position = i+TimeEntrySize, position+TimeEntrySize {
			raw := chunk[i : i+TimeEntrySize]
			e := readTimeEntry(raw)
			if err := t.checkLoaded(e, raw, position); err != nil {
				return err
			}
			t.entries = append(t.entries, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if partial := size % TimeEntrySize; partial != 0 {
		return errs.Corruptf(t.file.path, size-partial, "partial entry: %d trailing bytes", partial)
	}
	return nil
}

// checkLoaded checks entry e, read from raw at position, against the entries before it.
func (t *TimeIndex) checkLoaded(e timeEntry, raw []byte, position int64) error {
	path := t.file.path
	if n := len(t.entries); n > 0 {
		if allZero(raw) {
			return errs.Corruptf(path, position, "zero-filled entry after %d entries (preallocated or torn file)", n)
		}
		last := t.entries[n-1]
		if e.timestamp <= last.timestamp {
			return errs.Corruptf(path, position, "timestamp %d not greater than previous %d", e.timestamp, last.timestamp)
		}
		if e.relativeOffset < last.relativeOffset {
			return errs.Corruptf(path, position, "relative offset %d below previous %d",
				e.relativeOffset, last.relativeOffset)
		}
	}
	if int64(e.relativeOffset) > math.MaxInt64-t.base {
		return errs.Corruptf(path, position, "relative offset %d overflows base offset %d", e.relativeOffset, t.base)
	}
	return nil
}

// MaybeAppend adds the entry (timestamp, offset) in memory if timestamp is greater than
// the last entry's; otherwise it does nothing and returns nil. Flush, Sync or Close
// writes it. offset must be >= Base and >= the last entry's offset, and offset-Base
// must fit MaxRelativeOffset, or it returns ErrInvalidArgument (checked even when the
// timestamp would make the call a no-op). ErrIndexFull when an entry would be added to
// a full index; ErrClosed after Close; the sticky error after a failed write. Nothing
// changes on error.
func (t *TimeIndex) MaybeAppend(timestamp, offset int64) error {
	if err := t.file.checkWritable(); err != nil {
		return err
	}
	if offset < t.base || offset-t.base > MaxRelativeOffset {
		return errorf("strata/index: offset %d outside [%d, %d]: %w",
			offset, t.base, t.base+MaxRelativeOffset, ErrInvalidArgument)
	}
	e := timeEntry{timestamp: timestamp, relativeOffset: uint32(offset - t.base)}
	if n := len(t.entries); n > 0 {
		last := t.entries[n-1]
		if e.relativeOffset < last.relativeOffset {
			return errorf("strata/index: offset %d below last entry's %d: %w",
				offset, t.base+int64(last.relativeOffset), ErrInvalidArgument)
		}
		if timestamp <= last.timestamp {
			return nil
		}
	}
	if len(t.entries) >= t.maxEntries {
		return ErrIndexFull
	}
	t.entries = append(t.entries, e)
	return nil
}

// LookupBefore returns the entry with the greatest timestamp strictly less than ts.
// Every record at an offset below the entry's offset has a timestamp <= the entry's
// timestamp < ts, so a search for the first record with timestamp >= ts may start at
// the returned offset. ok is false if there is no such entry: start at Base().
// It does not allocate.
func (t *TimeIndex) LookupBefore(ts int64) (entryTimestamp, offset int64, ok bool) {
	low := t.firstAtOrAfter(ts) // the answer is the entry before it
	if low == 0 {
		return 0, t.base, false
	}
	e := t.entries[low-1]
	return e.timestamp, t.base + int64(e.relativeOffset), true
}

// SafeStartBefore returns where a search for the first record with timestamp >= ts
// may start even if one entry of the index is damaged (an index file has no
// checksum, and Open checks only its last entry): the offset of the entry before the
// one LookupBefore returns. A damaged entry, with a lowered timestamp or a raised
// offset, can then no longer make the search start past a qualifying record; the
// price is one index interval more of batch headers to skip. ok is false if there
// is no such entry: start at Base(). It does not allocate.
func (t *TimeIndex) SafeStartBefore(ts int64) (offset int64, ok bool) {
	low := t.firstAtOrAfter(ts)
	if low < 2 {
		return t.base, false
	}
	return t.base + int64(t.entries[low-2].relativeOffset), true
}

// firstAtOrAfter returns the index of the first entry whose timestamp is >= ts
// (len(entries) if none): a binary search written out, without sort.Search's
// closure, to keep lookups free of allocations.
func (t *TimeIndex) firstAtOrAfter(ts int64) int {
	low, high := 0, len(t.entries)
	for low < high {
		middle := int(uint(low+high) >> 1)
		if t.entries[middle].timestamp < ts {
			low = middle + 1
		} else {
			high = middle
		}
	}
	return low
}

// Len returns the number of entries.
func (t *TimeIndex) Len() int { return len(t.entries) }

// Entry returns entry i, 0 <= i < Len() (it panics otherwise, like a slice index).
func (t *TimeIndex) Entry(i int) (timestamp, offset int64) {
	e := t.entries[i]
	return e.timestamp, t.base + int64(e.relativeOffset)
}

// LastEntry returns the last entry, whose timestamp is the greatest indexed; ok is
// false if the index is empty.
func (t *TimeIndex) LastEntry() (timestamp, offset int64, ok bool) {
	if len(t.entries) == 0 {
		return 0, t.base, false
	}
	timestamp, offset = t.Entry(len(t.entries) - 1)
	return timestamp, offset, true
}

// IsFull reports whether the index has no room for another entry.
func (t *TimeIndex) IsFull() bool { return len(t.entries) >= t.maxEntries }

// MaxEntries returns how many entries the index can hold (Options.MaxBytes /
// TimeEntrySize).
func (t *TimeIndex) MaxEntries() int { return t.maxEntries }

// TruncateTo removes every entry whose offset is >= offset, in memory and in the file.
// The in-memory cut happens even when the file cannot be changed (after Close, or
// after a failed write, whose error it returns).
func (t *TimeIndex) TruncateTo(offset int64) error {
	// Offsets are non-decreasing: first entry with relative offset >= offset-base.
	n := 0
	if offset > t.base {
		target := uint64(offset - t.base)
		low, high := 0, len(t.entries)
		for low < high {
			middle := int(uint(low+high) >> 1)
			if uint64(t.entries[middle].relativeOffset) < target {
				low = middle + 1
			} else {
				high = middle
			}
		}
		n = low
	}
	if n < len(t.entries) {
		t.entries = t.entries[:n]
	}
	return t.file.truncate(n)
}

// Reset removes every entry and truncates the file to 0 bytes.
func (t *TimeIndex) Reset() error {
	t.entries = t.entries[:0]
	return t.file.truncate(0)
}

// Flush writes the entries appended since the last flush to the file with one
// WriteAt. It does not fsync.
func (t *TimeIndex) Flush() error {
	if err := t.file.checkWritable(); err != nil {
		return err
	}
	pending := t.entries[t.file.flushed:]
	if len(pending) == 0 {
		return nil
	}
	b := t.file.grow(len(pending))
	for i, e := range pending {
		putTimeEntry(b[i*TimeEntrySize:], e)
	}
	return t.file.writeTail(b)
}

// Sync flushes, then fsyncs the file.
func (t *TimeIndex) Sync() error {
	if err := t.Flush(); err != nil {
		return err
	}
	return t.file.sync()
}

// Close flushes and closes the file. The entries stay readable but every write returns
// ErrClosed. A second Close returns nil. After a failed write Close empties the file
// and returns that error.
func (t *TimeIndex) Close() error {
	if t.file.closed {
		return nil
	}
	return t.file.close(t.Flush())
}

// Rename renames the file to newPath (open or closed). The caller syncs the directory.
func (t *TimeIndex) Rename(newPath string) error { return t.file.rename(newPath) }

// Remove closes the index without flushing and deletes its file (a missing file is not
// an error). The caller syncs the directory.
func (t *TimeIndex) Remove() error {
	t.entries = nil
	return t.file.remove()
}

// Path returns the file's current path.
func (t *TimeIndex) Path() string { return t.file.path }

// Base returns the segment's base offset, which entries are relative to.
func (t *TimeIndex) Base() int64 { return t.base }

// SizeBytes returns the size the file has once flushed: Len() * TimeEntrySize.
func (t *TimeIndex) SizeBytes() int64 { return int64(len(t.entries)) * TimeEntrySize }
