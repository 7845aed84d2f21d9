// Package index implements a segment's two sparse indexes, in Kafka's on-disk format:
// the offset index (.index), which maps offsets to positions in the segment's .log
// file, and the time index (.timeindex), which maps timestamps to offsets. They let a
// read at an offset, or a search by timestamp, start scanning the .log near its target
// instead of at the start of a segment that may be a gigabyte long.
//
// # A cache of the log
//
// Everything an index holds can be recomputed by reading the .log, and is: the files
// carry no checksum, and after an unclean shutdown the segment layer rebuilds the
// indexes of every segment it recovers (CreateOffsetIndex, then one Append per indexed
// batch). An index may be sparser than the log allows (fewer entries only make scans
// longer) but must never be wrong. OpenOffsetIndex and OpenTimeIndex check the structure of what
// they load and return a *errs.CorruptError (errors.Is(err, ErrCorrupt)) for a file
// that breaks it; the caller then rebuilds. They never change a file they reject.
//
// # Offset index: .index
//
// Entries of OffsetEntrySize (8) bytes, big-endian, in increasing order of both fields:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        relative offset (uint32) = offset - base offset        |  bytes 0-3
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            position (uint32) of a batch in the .log           |  bytes 4-7
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// As in Kafka, the segment adds an entry when more than IndexIntervalBytes were
// appended to the .log since the last one, mapping the appended batch's LAST offset to
// the position where that batch starts; deciding when is the segment's job, the index
// only stores. OffsetIndex.Lookup(o) returns the entry with the greatest offset <= o,
// or (base, 0) if there is none: the .log scan for o may start at that position.
//
// # Time index: .timeindex
//
// Entries of TimeEntrySize (12) bytes, big-endian, timestamps strictly increasing,
// relative offsets non-decreasing:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |  bytes 0-7
//	+        timestamp (int64, milliseconds since the epoch)        +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        relative offset (uint32) = offset - base offset        |  bytes 8-11
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The segment calls TimeIndex.MaybeAppend(maxTimestampSoFar, offsetOfIt) as it indexes;
// an entry is kept only when its timestamp rises. TimeIndex.LookupBefore(ts) returns the
// entry with the greatest timestamp < ts: no record below its offset can have a
// timestamp >= ts, so the search for the first such record may start there.
//
// # Memory first, file lazily
//
// Entries live in memory, in a slice of small structs that is the source of truth for
// every lookup (lookups do not allocate and never touch the file). Appends change only
// memory. Flush writes the entries appended since the previous Flush with a single
// WriteAt at the end of the file; Sync is Flush then fsync; Close is Flush then close.
// Truncations (TruncateTo, TruncateToPosition, Reset) change memory and the file at
// once. Files are never preallocated, so a file's size is its entry count times the
// entry size; a zero-padded file (preallocated by Kafka, or left by a crash) is
// rejected on open, not read as phantom entries.
//
// Because flushing only ever adds whole entries at the end, a crash loses a suffix of
// the entries (a sparser, still correct index) unless the filesystem tears or garbles
// the write. The open-time checks are structural: they catch most torn tails (a
// partial entry, zeros, garbage that does not rise) but not all, since a torn entry
// can still look ordered. So after an unclean shutdown the segment must rebuild every
// index whose file was not synced since its last change, as Kafka rebuilds the
// indexes of every segment above the recovery point.
//
// Loading reads at most Options.MaxBytes of entries (a bigger file is corrupt), in
// chunks, and allocates the in-memory slice for the entries the file actually has:
// memory is bounded by the configuration, never by what a file claims. (A time entry
// takes 16 bytes in memory for 12 on disk.)
//
// # Errors
//
// Bad arguments (an offset that does not rise, a value that does not fit 32 bits)
// return ErrInvalidArgument and change nothing; a full index returns ErrIndexFull (the
// segment rolls). A failed write, truncate or fsync is sticky: every later write
// returns it (an fsync is never retried), truncations still cut the in-memory entries
// so lookups never point past a truncated log, and Close empties the file, because an
// empty index is always correct and a torn one may not be. After Close, writes return
// ErrClosed; lookups keep answering from memory.
//
// # Concurrency
//
// An index is NOT synchronized. Its owner, the segment, serializes every call that
// changes it (Append, MaybeAppend, Truncate*, Reset, Flush, Sync, Close, Rename,
// Remove) against every other call, including lookups, with its own lock. Lookups
// (Lookup, LookupBefore, Entry, LastEntry, Len) only read memory and may run
// concurrently with each other.
//
// # Example
//
//	idx, err := index.OpenOffsetIndex(fsys, "00000000000000368769.index", 368769, logSize, nil)
//	if errors.Is(err, index.ErrCorrupt) {
//		idx, err = index.CreateOffsetIndex(fsys, "00000000000000368769.index", 368769, nil)
//		// ... then Append an entry per indexed batch while rescanning the .log
//	}
//	if err != nil {
//		return err
//	}
//	defer idx.Close()
//	_, position := idx.Lookup(368776) // scan the .log from position for offset 368776
package index
