// Package partition is one partition's commit log: an ordered list of segments in
// one directory, records at consecutive offsets from 0, appended durably and read
// from any offset. It is already a useful durable queue on its own; the log package
// builds topics out of partitions.
//
//	dir/
//	  00000000000000000000.log .index .timeindex     sealed segment
//	  00000000000000368769.log .index .timeindex     sealed segment
//	  00000000000000737337.log .index .timeindex     active segment (appends go here)
//	  00000000000000737337.snapshot                  producer state below 737337 (Kafka's format)
//	  partition.checkpoint                           start offset, recovery point, clean flag, manifest
//	  cleaner.checkpoint                             cleaner point (compacted partitions)
//
// Finding an offset is a binary search over the segments' base offsets, then the
// segment's sparse index, then a forward scan of batch headers (see package segment).
//
// # Usage
//
//	p, err := partition.Open("data/orders-0", nil) // defaults: fsync every append
//	defer p.Close()
//	first, err := p.Append(ctx, []partition.Record{{Key: k, Value: v}})
//	records, err := p.Read(first, 100, 1<<20)      // copies, no waiting
//	r := p.NewReader(first, 0)                     // follows the tail
//	for rec, err := r.Next(ctx); err == nil; rec, err = r.Next(ctx) { ... }
//	off, found, err := p.OffsetForTime(ms)         // seek by timestamp
//
// # Durability
//
// Options.Sync chooses when appends are fsynced: SyncEveryAppend (the default)
// acknowledges an append only after an fsync covers it, and many goroutines
// appending at once share one fsync (group commit); SyncPeriodic fsyncs every N
// records or every interval; SyncNone leaves it to the OS. Readers see a record only
// once it is acknowledged. Segments are fsynced when rolled, and the directory after
// every create, rename and delete. After any write or fsync error the partition fails
// closed: every later change returns that error, and an fsync is never retried; reads
// of what was acknowledged go on (a full disk does not make records unreadable).
//
// # Recovery
//
// Close fsyncs everything and records a clean shutdown in partition.checkpoint. Open
// without it verifies, batch by batch, every segment from the recovery point on: the
// checkpointed one (advanced at every roll), or Options.RecoveryPoint if greater, a
// point the owner recorded outside the directory (the log package records each
// partition's DurableOffset every second in its store's recovery-points.checkpoint).
// A torn tail of the last segment is truncated and
// reported in RecoveryReport; invalid bytes in a sealed segment or below the recovery
// point are a *CorruptError, never a silent truncation. A torn write can only be at
// the end of the file and leaves a partial batch or one failing its CRC: an invalid
// batch followed by a valid one, or one whose CRC holds but whose offsets do not
// follow, is corruption too. Open then checks the segments against the checkpoint
// (they meet without gaps, none missing before the log start offset, the log reaching
// the recovery point and, after a clean shutdown, ending there): a removed, cut or
// planted segment file is a *CorruptError; so is a segment that differs from its
// entry in the checkpoint's manifest of sealed segments (end offset, size and a
// fingerprint of its batches: manifest.go), such as another partition's segment copied
// in its place. Indexes are rebuilt whenever they disagree
// with their log. Sealed segments below the recovery point are trusted
// after a check of their indexes and first and last batches, not read whole: Verify scrubs them (and checks each digest), and readers
// report a bad batch with its file and position. Opening a cleanly closed partition
// writes nothing: the checkpoint is marked "not clean" just before the first change
// (so that opening and closing thousands of idle partitions costs no fsync), and
// index files are closed between writes (one descriptor per segment, its .log).
//
// A limit of this design: the checkpointed recovery point moves at every roll, Open
// and Close, not at every fsync, and Options.RecoveryPoint only as often as its owner
// records it. Above the greater of the two, a flipped bit in the last batch of the
// active segment fsynced before a crash looks like a torn write and is truncated
// (reported in RecoveryReport as Whole, logged at Error), and the active segment cut
// at a batch boundary reads as a shorter log (its removal is seen: the checkpoint
// names it). Below it both are a *CorruptError. Telling them apart everywhere needs a
// record of each fsync's end position: one more fsync per commit. A power loss that
// persisted unsynced pages out of order (a later batch, not an earlier one) is
// reported as corruption rather than cut: fail closed, and Repair says what it gives
// up.
//
// # Scrub and repair
//
// Scrub checks a closed partition directory without changing it; Repair, never run by
// Open, cuts a damaged one at its first problem (or, with KeepLater, cuts out each
// damaged range), keeps a copy of what it removes, covers the offsets it gives up with
// an empty batch (so that no offset is ever given to a second record) and reports
// them. FORMAT.md describes both.
//
// # Retention and truncation
//
// Retention (RetentionBytes, RetentionAge; default: keep forever) deletes whole sealed
// segments, oldest first, after each roll and on ApplyRetention; DeleteRecordsBefore
// moves the start offset explicitly. The start offset is checkpointed before files go,
// and survives restart. TruncateTo removes the tail (for replicas).
//
// # Idempotent producers
//
// A batch carrying a producer identity (AppendWith with AppendOptions.Producer, or
// AppendBatch of a Kafka producer's batch: producerId >= 0) is checked as Kafka's
// leader checks it, against the state the partition keeps for that producer id: its
// epoch and its last five batches (sequence range, offsets, timestamp), and the first
// offset of its open transaction. A retry of one of those batches writes nothing and
// returns the original base offset with ErrDuplicateSequence (Kafka answers it with
// success; the error tells the caller nothing was written); a sequence that does not
// follow is ErrOutOfOrderSequence, an older epoch ErrInvalidProducerEpoch, a new
// epoch must start at sequence 0, and a non-transactional batch during the producer's
// transaction is ErrInvalidTxnState. An unknown producer id may start at any sequence
// (Kafka's rule since KIP-360). Sequences wrap from MaxInt32 to 0. Batches without a
// producer id cost one comparison. AppendReplica updates the state without checks,
// as Kafka's followers do, so that a follower that becomes leader knows every
// producer's sequence.
//
//	first, err := p.AppendWith(ctx, records, &partition.AppendOptions{
//		Producer: &partition.Producer{ID: id, Epoch: epoch, BaseSequence: seq}})
//	if errors.Is(err, partition.ErrDuplicateSequence) { /* a retry: first is the original offset */ }
//
// The state survives restart and crash in Kafka's <offset>.snapshot files (written at
// every roll and at Close; Open loads the newest valid one and replays the batches
// after it; FORMAT.md; Close records a clean shutdown only once its snapshot is
// written). As Kafka's upgrade rule, a clean shutdown without any snapshot (a
// partition written before they existed) replays only the last two segments, unless
// a transaction is found open there, and writes snapshots at their bases and the log
// end: producers known only from older segments are forgotten, and so are those
// whose only record there is a marker. The state survives
// retention and compaction of the batches that made it, follows TruncateTo, and
// expires ProducerIDExpiration (Kafka's producer.id.expiration.ms, 24 hours) after
// the producer's newest batch timestamp.
// As in Kafka, a snapshot keeps only each producer's newest batch: after a restart, a
// retry of an older one of its last five batches that precedes the newest snapshot is
// out of order rather than a duplicate. Compaction keeps each producer's newest
// batch (emptied if need be), as Kafka's cleaner does, but not the ones before it: a
// TruncateTo into compacted segments (below the high watermark, which Kafka never
// does) may leave a producer's sequence older than it was there.
//
// # Transactions
//
// A transactional producer's batches (Producer.Transactional, attribute bit 4) open
// its transaction in the partition; the transaction coordinator (the log package)
// ends it with AppendTxnMarker, a COMMIT or ABORT control batch in Kafka's format,
// refused with ErrInvalidProducerEpoch for a stale producer epoch (with
// TransactionVersion 2, KIP-890, one not above the producer's: the coordinator
// bumps the epoch at every end, so a late marker of one transaction cannot end the
// next) and with ErrTransactionCoordinatorFenced for a stale coordinator epoch, as
// Kafka refuses them; a marker for a producer without an open transaction (a
// coordinator's retry after a restart) is written and ends nothing, as in Kafka.
//
//	p.AppendWith(ctx, records, &partition.AppendOptions{Producer: &partition.Producer{
//		ID: id, Epoch: epoch, BaseSequence: seq, Transactional: true}})
//	p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: id, ProducerEpoch: epoch + 1,
//		CoordinatorEpoch: coordinatorEpoch, Type: partition.MarkerCommit, TransactionVersion: 2})
//
// LastStableOffset is the first offset of the earliest transaction still open, or
// ended by a marker not yet below the high watermark (one that truncation may still
// remove), and never above the high watermark. A Reader set to ReadCommitted
// (SetIsolationLevel; ReadUncommitted stays the default, as Kafka's isolation.level)
// returns records only below it, Next waiting for it to move, and skips the batches
// of aborted transactions, which it finds in the segments' aborted-transaction
// indexes (.txnindex, Kafka's format; AbortedTxns gives them to a Kafka fetch)
// without scanning for markers. No Reader returns a marker's record. The index
// follows its segment through truncation, retention and compaction and is rebuilt
// from the log after a crash. Compaction never cleans an open transaction's records,
// drops aborted ones, and keeps a marker while its transaction has records, then
// until its delete horizon (DeleteRetention). The LastStableOffset bound holds back
// compaction too: a transaction left open (a hanging transaction) stops both
// read_committed readers and the cleaner at its first offset until the coordinator
// ends it, as in Kafka.
//
// # Compaction
//
// With Options.Compact (Kafka's cleanup.policy=compact) Compact rewrites sealed
// segments keeping only the latest record of each key, once the dirty bytes (sealed
// bytes written since the last compaction, after the checkpointed cleaner point)
// reach MinCleanableDirtyRatio of the cleanable bytes; ForceCompact does it whatever
// the ratio. The active segment, and segments younger than MinCompactionLag, are never
// touched. Offsets never change: a record keeps its offset, and readers (Reader, Read,
// ReadBatches, Locate, OffsetForTime) skip the gaps. A tombstone (a record with a nil
// Value) removes its key's earlier records at once and is itself removed
// DeleteRetention after the first compaction that kept it (the delete horizon, on the
// Options.Now clock). Records with a nil key are always kept. Small neighbouring
// segments are merged while they fit SegmentBytes. With RetentionBytes or RetentionAge
// as well, retention keeps deleting whole old segments ("compact,delete").
//
//	p, err := partition.Open(dir, &partition.Options{Compact: true})
//	res, err := p.Compact(ctx)      // no-op unless the dirty ratio calls for it
//	res, err = p.ForceCompact(ctx)  // now
//
// Compaction never blocks appends or reads for long: it reads the sealed segments and
// writes cleaned ones (<base>.log.cleaned) without the append lock, and takes it only
// to swap the cleaned segments in (rename to .swap, delete the old files, rename into
// place, each step followed by an fsync of the directory). A crash at any point is
// finished or undone by Open (FORMAT.md). Retention or truncation that changes the
// segments meanwhile makes the compaction give up, and the next one starts over.
// Readers of the old segments keep reading them through their open files until the
// swap, and find the cleaned ones after it.
//
// # Reading without copies
//
// On the OS filesystem on Linux a Reader decodes batches straight from a read-only
// memory mapping of the segment (sealed segments are mapped whole; the active one
// through a larger window that its appends grow into), so a sequential read costs no
// system call and no copy. ReadBatches and Read still copy. A mapping is unmapped
// only once nothing holds it (a cleanup run by the garbage collector), and a Reader
// holds the one its records point into until its next call: retention, compaction or
// Close cannot unmap bytes under it, and TruncateTo first turns the mapped bytes it
// cuts into private copies (mremap), so a reader in the middle of them never faults
// and never sees them change.
//
// Consequences: deleted segments keep their disk space while a Reader holds their
// mapping (until its next call: a paused consumer keeps the segment it last read) and
// until a garbage collection runs. An I/O error while reading mapped bytes is a fault
// that stops the process, where a read would return an error. One case is not
// covered: a Reader of a closed Partition whose directory is opened again in the same
// process and truncated there (TruncateTo, or recovery) may fault on the records it
// still holds, since what to preserve is known per Partition, not per file; let such
// a Reader make its next call (it returns ErrClosed) before reopening. A segment that
// cannot be mapped (past vm.max_map_count) is logged once and read through the file,
// as on other platforms.
//
// ReadBatchesFile also names the batches as a segment.FileRange, for a server that
// sends them with sendfile(2): a duplicate of the .log's descriptor, which keeps the
// bytes through retention, compaction's swap and Close as a mapping does (it costs a
// descriptor per range until it is closed; where none can be had the range is
// simply not made). TruncateTo, which changes a .log in place, waits for a sendfile
// call under way and makes the ranges made before refuse to send (their holders send
// the rest from the mapping). The case a mapping does not cover is not covered
// either: a directory opened again in the same process and truncated there.
//
// A Reader verifies each batch's CRC-32C before decoding it; SetCheckCRCs(false)
// skips that (Kafka's check.crcs=false), for about a third more speed on 100-byte
// records, at the price of not noticing corrupted keys and values.
//
// # Concurrency and ownership
//
// A Partition is safe for concurrent use: appends are serialized, reads run
// concurrently with appends and each other, and never see a partial batch. A Reader
// is for one goroutine and its records alias its buffers until its next call; Read
// returns copies. Append does not keep the records; AppendBatch stamps the base
// offset and the leader epoch into the caller's batch. Every blocking call takes a
// context. Lock order:
// the compaction lock, appendMu, syncSem, mu, then a segment's lock (epochsMu, of the
// leader epoch cache, between appendMu and mu, never with syncSem); compactions of a
// partition run one at a time, and Close waits for a running one to give up.
package partition
