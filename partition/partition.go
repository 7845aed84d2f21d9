package partition

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// Record is one record of a partition: offset, timestamp (ms since the Unix epoch),
// key, value and headers. It is the segment package's record.
type Record = segment.Record

// Header is a record header.
type Header = segment.Header

// mark is a point in the log: the offset after the last batch that counts, the
// segment holding that batch, and the position in it where the batch ends.
type mark struct {
	offset int64
	seg    *segment.Segment
	pos    int64
}

// Partition is one partition's commit log: an ordered list of segments, the last of
// them active. It is safe for concurrent use: appends are serialized (and share
// fsyncs), reads run concurrently with appends and with each other.
//
// Lock order: cleaner.mu, then appendMu, then syncSem, then mu, then a segment's own
// lock; epochsMu comes after appendMu and before mu, and is never held with syncSem. Compaction holds cleaner.mu throughout, takes appendMu only to snapshot the
// segments and to swap cleaned ones in, and reads sealed segments under brief
// holds of mu (read); see compact.go.
type Partition struct {
	dir  string
	opts Options
	fsys vfs.FS
	// segOpts are the options of segments compaction may have written (which have
	// gaps), denseOpts of the others; segmentOptions picks.
	segOpts, denseOpts *segment.Options
	// storedMax is the largest batch believed on disk: what reads, recovery,
	// compaction and a follower's copies accept, and what the checkpoint records,
	// at least Options.MaxBatchBytes, which bounds only the batches appended
	// (storedMaxOf). Set before the first segment is read.
	storedMax int
	logger    *slog.Logger
	report    RecoveryReport

	// appendMu serializes every writer: appends, rolls, retention, truncation,
	// DeleteRecordsBefore, a compaction's swap and Close. Fields owned by the writer
	// live under it.
	appendMu      sync.Mutex
	activeSince   time.Time // when the active segment started, for SegmentAge
	unsynced      int       // records appended since the last fsync (SyncPeriodic)
	recoveryPoint int64     // last recovery point written to the checkpoint
	// producers is the state of the idempotent and transactional producers whose
	// batches the log holds (producer_state.go).
	producers producerStates
	// snapshots are the offsets of the producer snapshot files, ascending.
	snapshots []int64
	// producersUnread is true while producers has not been read from the newest
	// snapshot, which Open found at the log end: no batch with a producer id was
	// written since, so the snapshot alone is the state (producer_durability.go).
	producersUnread bool
	// finishedSwaps are the offsets of the segments that Open's recoverCompaction
	// installed, finishing a swap: the manifest is not checked there (manifest.go).
	finishedSwaps []OffsetRange
	// newestBase is the base of the newest segment, for the checkpoint: set (under
	// appendMu) before a checkpoint that must name it is written.
	newestBase atomic.Int64
	// clean is true while the checkpoint on disk says "clean shutdown" and nothing
	// changed since Open: markDirtyLocked clears it (on disk first) before any
	// change, and Close then has nothing to write.
	clean bool
	// inFlight counts appends written but not yet acknowledged. Add is called only
	// under appendMu, so a holder of appendMu may Wait for them.
	inFlight sync.WaitGroup
	// background counts background fsyncs of Write; Add is called only under
	// appendMu. syncScheduled is set while one is about to start.
	background    sync.WaitGroup
	syncScheduled atomic.Bool

	// syncSem admits one fsync at a time; the holder is the group commit leader.
	syncSem chan struct{}

	mu struct {
		sync.RWMutex
		segments  []*segment.Segment // sorted by base offset; the last is active
		start     int64              // log start offset
		written   mark               // end of what is written to the OS (log end offset)
		acked     mark               // end of what the sync policy acknowledged
		committed mark               // end of what readers see: the high watermark
		durable   int64              // every offset below it is fsynced
		err       error              // sticky: the first write or fsync failure
		closed    bool
		waiters   chan struct{} // closed and replaced when committed moves or on close
		changes   chan struct{} // closed and replaced at any change (Changes)
		txns      transactions  // open and undecided transactions (txn_stable.go)
	}

	// replicated is Options.Replicated, changed by SetReplicated; written under mu.
	replicated atomic.Bool

	// epochsMu guards epochs (epochs.go).
	epochsMu sync.Mutex
	epochs   epochState

	stats     counters
	cleaner   cleanerState  // compaction: its lock, cleaner point and counters
	flushKick chan struct{} // wakes the periodic flusher
	stop      chan struct{} // closed by Close: background goroutines exit
	done      sync.WaitGroup
	closeOnce sync.Once
}

// counters are the partition's statistics, updated atomically.
type counters struct {
	appends, appendedRecords, appendedBytes atomic.Uint64
	syncs, syncNanos, bytesRead             atomic.Uint64
}

// RecoveryReport says what Open found and did.
type RecoveryReport struct {
	// CleanShutdown is true if the partition had been closed cleanly: nothing was
	// recovered.
	CleanShutdown bool
	// Created is true if the directory held no partition: Open created an empty
	// one (CleanShutdown is false then, and nothing was lost).
	Created bool
	// RecoveryPoint is the offset below which everything was fsynced: the
	// checkpoint's, or after an unclean shutdown Options.RecoveryPoint if greater.
	RecoveryPoint int64
	// SegmentsRecovered counts the segments whose every batch was verified.
	SegmentsRecovered int
	// Truncated lists the bytes cut from torn tails.
	Truncated []segment.Truncation
	// RemovedFiles lists leftover files that Open deleted (orphan indexes, temp files,
	// segments below the log start offset).
	RemovedFiles []string
}

// Dir returns the partition's directory.
func (p *Partition) Dir() string { return p.dir }

// RecoveryReport returns what Open found and did.
func (p *Partition) RecoveryReport() RecoveryReport { return p.report }

// StartOffset returns the log start offset: the lowest offset that can be read.
func (p *Partition) StartOffset() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mu.start
}

// EndOffset returns the offset after the last acknowledged record: the next offset a
// reader waits for. Under SyncEveryAppend it is also the end of what is fsynced.
func (p *Partition) EndOffset() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mu.committed.offset
}

// DurableOffset returns the offset below which every record is fsynced (it moves
// at every fsync, roll and Close; partition.checkpoint's recovery point moves only at
// rolls, Open and Close). An owner records it outside the partition directory and
// hands it back to Open as Options.RecoveryPoint after a crash: see there.
func (p *Partition) DurableOffset() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mu.durable
}

// DurablePoint returns DurableOffset and, when it lies above a segment's base, the
// mark of that segment (the newest one holding durable records), for a store to
// record with it (Options.RecoveryPoint, Options.RecoveryPointSegment).
func (p *Partition) DurablePoint() (offset int64, mark SegmentMark, marked bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	offset = p.mu.durable
	segments := p.mu.segments
	i := sort.Search(len(segments), func(i int) bool { return segments[i].Base() >= offset }) - 1
	if i < 0 {
		return offset, SegmentMark{}, false
	}
	first, ok := segments[i].FirstTerm()
	if !ok {
		return offset, SegmentMark{}, false
	}
	return offset, SegmentMark{Base: segments[i].Base(), FirstTerm: first}, true
}

// WrittenOffset returns the offset the next append will get: the end of what was
// written to the OS, acknowledged or not (Kafka's log end offset).
func (p *Partition) WrittenOffset() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mu.written.offset
}

// Err returns the sticky error that made the partition fail closed, or nil.
func (p *Partition) Err() error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mu.err
}

// usable returns the error every call returns once the partition is closed or failed.
func (p *Partition) usableLocked() error {
	if p.mu.closed {
		return errs.ErrClosed
	}
	return p.mu.err
}

// readableLocked returns why the partition cannot be read: only when it is closed.
// A failed write or fsync (a full disk, say) stops every change but not reads:
// acknowledged records stay readable without a reopen.
func (p *Partition) readableLocked() error {
	if p.mu.closed {
		return errs.ErrClosed
	}
	return nil
}

// fail makes err sticky: the partition refuses every later call with it. An fsync is
// never retried after a failure (the kernel may have dropped the dirty pages).
func (p *Partition) fail(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failLocked(err)
}

// advanceCommittedLocked lets readers see everything up to m and wakes waiters.
func (p *Partition) advanceCommittedLocked(m mark) {
	if m.offset > p.mu.committed.offset {
		p.mu.committed = m
		p.wakeWaitersLocked()
	}
}

func (p *Partition) wakeWaitersLocked() {
	p.notifyLocked()
	if p.mu.waiters != nil {
		close(p.mu.waiters)
		p.mu.waiters = nil
	}
}

// Wait blocks until a record at offset or later is readable (EndOffset() > offset),
// ctx ends, or the partition is closed or fails (then no record will come).
func (p *Partition) Wait(ctx context.Context, offset int64) error {
	return p.waitUntil(ctx, offset, func() int64 { return p.mu.committed.offset })
}

// waitUntil blocks until endLocked (called under mu) is above offset, ctx ends, or
// the partition is closed or fails. endLocked must move only when committed does
// (which wakes waiters), or be recomputed by whoever moves it.
func (p *Partition) waitUntil(ctx context.Context, offset int64, endLocked func() int64) error {
	for {
		p.mu.Lock()
		if err := p.readableLocked(); err != nil {
			p.mu.Unlock()
			return err
		}
		if endLocked() > offset {
			p.mu.Unlock()
			return nil
		}
		if err := p.usableLocked(); err != nil {
			p.mu.Unlock()
			return err
		}
		if p.mu.waiters == nil {
			p.mu.waiters = make(chan struct{})
		}
		ch := p.mu.waiters
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close flushes and fsyncs everything, writes the producer snapshot at the log end,
// records a clean shutdown (not if the snapshot could not be written: the next Open
// then replays the log) and closes every file. Appends waiting for an fsync are acknowledged by Close's own fsync. Close is
// idempotent; after it every call returns ErrClosed.
func (p *Partition) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.stop)
		p.done.Wait()
		p.cleaner.mu.Lock() // a running compaction sees stop and gives up
		defer p.cleaner.mu.Unlock()
		p.appendMu.Lock()
		defer p.appendMu.Unlock()
		p.background.Wait()
		p.syncSem <- struct{}{}
		defer func() { <-p.syncSem }()
		err = p.closeLocked()
	})
	return err
}

func (p *Partition) closeLocked() error {
	p.mu.RLock()
	segments, failed, written := p.mu.segments, p.mu.err, p.mu.written
	start := p.mu.start
	p.mu.RUnlock()
	var err error
	if failed == nil && !p.clean {
		err = segments[len(segments)-1].Seal()
	}
	if err == nil && failed == nil {
		// Everything is durable: the producer state at the log end makes the next
		// Open replay no batch. A partition opened clean and left untouched has its
		// snapshot at the end already. Without it, no clean shutdown is recorded:
		// Open's upgrade rule (openProducers) trusts a clean shutdown without any
		// snapshot to need no replay of the older segments.
		snapshotted := p.takeSnapshotLocked(written.offset)
		switch {
		case snapshotted && !p.clean:
			// Sealed, the newest segment is listed in the manifest too.
			err = p.writeCheckpoint(checkpoint{logStartOffset: start, recoveryPoint: written.offset, newestSegment: p.newestBase.Load(), cleanShutdown: true, manifest: manifestOf(segments)})
		case !snapshotted:
			err = p.writeCheckpoint(p.openCheckpoint(start, written.offset, segments))
		}
	}
	p.mu.Lock()
	if err == nil && failed == nil {
		p.mu.durable = written.offset
		p.acknowledgeLocked(written)
	}
	p.mu.closed = true
	p.wakeWaitersLocked()
	p.mu.Unlock()
	for _, s := range segments {
		err = errors.Join(err, s.Close())
	}
	return err
}
