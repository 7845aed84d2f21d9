// Package segment is one segment of a partition's log: a .log file of Kafka
// RecordBatch v2 batches with its sparse .index and its .timeindex, all three named
// by the segment's base offset, the first offset it may hold, zero-padded to 20
// digits:
//
//	00000000000000368769.log        the batches, byte for byte as Kafka writes them
//	00000000000000368769.index      offset index: (offset-368769 uint32, position uint32)
//	00000000000000368769.timeindex  time index: (timestamp int64, offset-368769 uint32)
//
// The package also holds the RecordBatch v2 codec: AppendBatch encodes records into a
// batch, ParseBatchHeader and VerifyBatch check one, Decoder iterates its records
// without allocating per record, AppendFilteredBatch rewrites a batch with some of its
// records for compaction (offsets kept, delete horizon set). FORMAT.md at the
// repository root describes every byte.
//
// For compaction, a segment can be built under a suffix (CreateWithSuffix with
// CleanedSuffix), renamed to SwapSuffix and then into place (RenameFiles), and
// ReadNextOffset reads where a .swap file ends.
//
// # Lookup
//
// Find(offset) is Kafka's lookup: the greatest index entry <= offset gives a byte
// position; batch headers are scanned forward from there to the first batch whose
// last offset is >= offset. An index entry maps a batch's last offset to the position
// where the batch starts, one entry per IndexIntervalBytes of log. Records below the
// offset asked for are skipped by the reader, because a batch is read whole.
//
//	.index               .log
//	rel  pos             pos   batch
//	 0    0     ──────▶     0  [368769 .. 368775]
//	                     4170  [368776 .. 368790]   ◀── Find(368776): entry 0, scan 1 header
//	 21  8300   ──────▶  8300  [368791 .. 368799]
//
// # Recovery
//
// An index is a cache of its .log, never trusted blindly. Open (for a segment whose
// bytes were fsynced: a clean shutdown, or below the partition's recovery point)
// checks both indexes against the .log and rebuilds them, verifying every CRC, if
// they disagree; an invalid batch there is a *CorruptError naming the file and byte
// position. Recover (after an unclean shutdown) verifies every batch and truncates the
// .log at the first invalid one above the flushed offset, reporting the cut as a
// Truncation. Length fields are bounds-checked against MaxBatchBytes before anything
// is allocated, and no bytes on disk make this package panic (see the Fuzz tests).
//
// # Usage
//
//	s, err := segment.Create(fsys, dir, 0, nil)
//	batch, err := segment.AppendBatch(nil, records, nil)
//	segment.SetBaseOffset(batch, s.NextOffset())
//	h, err := segment.ParseBatchHeader(batch, segment.DefaultMaxBatchBytes)
//	err = s.Append(batch, &h)
//	pos, h, found, err := s.Find(offset, s.Size())
//
// # Concurrency and ownership
//
// A Segment takes one writer (Append, Seal, TruncateTo) and any number of concurrent
// readers (Find, FindTimestamp, ReadAt and the accessors). Readers pass an end
// position they know to be committed; the segment never reads beyond it. Append does
// not keep the batch slice. A Decoder belongs to one goroutine; the records it returns
// alias its buffers until the next Reset.
package segment
