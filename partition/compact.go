package partition

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// Log compaction (Kafka's cleanup.policy=compact) keeps the latest record of each key.
//
// A compaction works on the cleanable segments: the sealed segments, oldest first,
// that lie wholly below the end offset and whose newest record is at least
// MinCompactionLag old (never the active segment). The cleaner point splits them: below
// it the log is compacted already (clean), from it on it is dirty. A compaction
//
//  1. maps each key of the dirty segments to the offset of its latest record there
//     (offsetMap, bounded by CleanerMapBytes: at least one segment is mapped, and the
//     mapping stops at a segment boundary once the budget is spent);
//  2. rewrites every cleanable segment up to where the map stops, clean ones included,
//     into cleaned segments, grouping neighbours while what was written plus the next
//     segment's bytes fit SegmentBytes (fitsGroup; Kafka's groupSegmentsBySize counts
//     bytes before cleaning): a record is dropped if its key maps to a later offset,
//     or if it is a tombstone whose batch's delete horizon has passed; a tombstone kept
//     for the first time gets a horizon DeleteRetention from now. Records with a nil
//     key are never dropped. Offsets never change: rewritten batches keep their
//     offsets, and the last batch of a group is kept even when empty, so each cleaned
//     segment spans exactly the offsets of the segments it replaces;
//  3. swaps the cleaned segments in (compact_swap.go), crash-safely, and checkpoints
//     the new cleaner point.
//
// Steps 1 and 2 hold only cleaner.mu: appends, reads, rolls and retention go on. Reads
// of sealed segments hold mu (read) for each chunk and check that the segment is still
// part of the partition, so a segment that retention removed meanwhile is never read
// after it was closed. Step 3 holds appendMu, checks that no truncation happened and
// which groups' segments are all still there (retention may have deleted old ones),
// and swaps those.

// cleanerState is the compaction side of a partition.
type cleanerState struct {
	// mu admits one compaction at a time; Close takes it, after closing stop, to wait
	// for a running one. It comes first in the lock order.
	mu sync.Mutex
	// point is the cleaner point: every offset below it is compacted. It is written
	// under appendMu (by a compaction's swap, by TruncateTo and by Open) and read
	// without a lock.
	point atomic.Int64
	// gapsBelow: segments based at or above it were never written by compaction and
	// are dense (segment.Options.Dense). Written under appendMu, like point.
	gapsBelow atomic.Int64
	// truncations counts the TruncateTo calls that removed data: a compaction that
	// sees it move gives up, since the sealed segments it read may have changed.
	truncations atomic.Uint64

	compactions, bytesRead, bytesWritten, recordsRemoved atomic.Uint64
}

func (c *cleanerState) stats(st *Stats) {
	st.Compactions = c.compactions.Load()
	st.CompactionBytesRead = c.bytesRead.Load()
	st.CompactionBytesWritten = c.bytesWritten.Load()
	st.CompactionRecordsRemoved = c.recordsRemoved.Load()
	st.CleanerPoint = c.point.Load()
}

// CompactionResult says what a compaction did.
type CompactionResult struct {
	// Compacted is true if segments were replaced by cleaned ones. It is false when
	// the dirty ratio was below MinCleanableDirtyRatio, nothing was cleanable or
	// nothing changed, or a concurrent truncation or retention removed the segments
	// being cleaned (the next compaction starts over).
	Compacted bool
	// DirtyRatio is the dirty share of the cleanable bytes before the compaction:
	// bytes of cleanable segments at or after the cleaner point over all cleanable
	// bytes (0 if nothing was cleanable).
	DirtyRatio float64
	// CleanerPoint is the cleaner point afterwards: every offset below it is compacted.
	CleanerPoint int64
	// SegmentsRead and BytesRead count the segments replaced and their bytes;
	// SegmentsWritten and BytesWritten the cleaned segments that replaced them.
	SegmentsRead, SegmentsWritten int
	BytesRead, BytesWritten       int64
	// RecordsRemoved counts the records removed: superseded records and tombstones
	// past their delete horizon; TombstonesRemoved counts the latter.
	RecordsRemoved, TombstonesRemoved int64
}

// Compact compacts the partition if its dirty ratio is at least
// MinCleanableDirtyRatio: see ForceCompact for what compaction does. It needs
// Options.Compact (ErrInvalidArgument otherwise).
//
// Compact runs concurrently with appends, reads and retention, which it holds up only
// while it swaps cleaned segments in; compactions of one partition run one at a time.
// It returns ctx.Err() if ctx ends, and ErrClosed if the partition is closed meanwhile;
// either way nothing changed. Invalid bytes in a segment are a *CorruptError, and
// nothing is dropped. A failure while swapping segments makes the partition fail
// closed; Open then finishes the swap.
func (p *Partition) Compact(ctx context.Context) (CompactionResult, error) {
	return p.compact(ctx, false)
}

// ForceCompact compacts the partition whatever its dirty ratio. Compaction rewrites
// the cleanable segments (sealed, below the end offset, newest record at least
// MinCompactionLag old) keeping, for each key, only its latest record, as of the
// dirty part it mapped (CleanerMapBytes). Offsets and order never change; readers skip
// the gaps. A tombstone (nil Value) is kept for DeleteRetention after the first
// compaction that saw it, then removed. Records with a nil key are always kept.
// Small segments are merged while they fit SegmentBytes. The cleaned segments replace
// the old ones crash-safely (FORMAT.md: .cleaned and .swap files).
func (p *Partition) ForceCompact(ctx context.Context) (CompactionResult, error) {
	return p.compact(ctx, true)
}

func (p *Partition) compact(ctx context.Context, force bool) (CompactionResult, error) {
	if !p.opts.Compact {
		return CompactionResult{}, errorf("strata/partition: compact %s: Options.Compact is off: %w", p.dir, errs.ErrInvalidArgument)
	}
	p.cleaner.mu.Lock()
	defer p.cleaner.mu.Unlock()
	if err := p.compactionStopped(ctx); err != nil {
		return CompactionResult{}, err
	}
	plan, err := p.planCompaction(force)
	if err != nil || plan.mapEnd == 0 {
		return plan.result, err
	}
	c := newCleaning(p, plan)
	defer c.discard()
	if err := c.mapDirty(ctx); err != nil {
		return plan.result, c.settle(err)
	}
	if err := c.cleanGroups(ctx); err != nil {
		return plan.result, c.settle(err)
	}
	if err := p.install(c); err != nil {
		return plan.result, c.settle(err)
	}
	res := c.result()
	if res.Compacted {
		p.cleaner.compactions.Add(1)
		p.cleaner.bytesRead.Add(uint64(res.BytesRead))
		p.cleaner.bytesWritten.Add(uint64(res.BytesWritten))
		p.cleaner.recordsRemoved.Add(uint64(res.RecordsRemoved))
		p.logger.Info("compacted segments", "segments-read", res.SegmentsRead, "segments-written", res.SegmentsWritten,
			"bytes-read", res.BytesRead, "bytes-written", res.BytesWritten, "records-removed", res.RecordsRemoved,
			"tombstones-removed", res.TombstonesRemoved, "cleaner-point", res.CleanerPoint)
		if hook := p.opts.Hooks.OnCompaction; hook != nil {
			hook(res)
		}
	}
	return res, nil
}

// compactionStopped returns why a compaction must stop now: ctx ended, the partition
// is closing or failed.
func (p *Partition) compactionStopped(ctx context.Context) error {
	select {
	case <-p.stop:
		return errs.ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.usableLocked()
}

// compactionPlan is what a compaction decided before reading any record.
type compactionPlan struct {
	now         time.Time
	point       int64  // cleaner point at the start
	truncations uint64 // cleaner.truncations at the start
	// producerLast maps each known producer to the last offset of its newest batch,
	// which compaction keeps (emptied if need be) as Kafka's cleaner does, so that
	// the producer state can be rebuilt from the log alone.
	producerLast map[int64]int64
	// aborted are the aborted transactions among the cleanable segments, by
	// producer (txn_compact.go).
	aborted map[int64][]AbortedTxn
	// cleanable are the segments compaction may rewrite; next is the base offset of the
	// segment after the last of them (the active one, or the first uncleanable one).
	cleanable []*segment.Segment
	next      int64
	// dirtyFrom indexes the first cleanable segment at or after the cleaner point;
	// mapEnd is the number of leading cleanable segments to rewrite (0: none).
	dirtyFrom, mapEnd int
	result            CompactionResult
}

// planCompaction finds the cleanable segments and the dirty ratio, and decides
// whether to compact. It holds appendMu only to take the snapshot.
func (p *Partition) planCompaction(force bool) (compactionPlan, error) {
	plan := compactionPlan{now: p.opts.Now()}
	p.appendMu.Lock()
	p.mu.RLock()
	segments := append([]*segment.Segment(nil), p.mu.segments...)
	start, committed, err := p.mu.start, p.mu.committed.offset, p.usableLocked()
	p.mu.RUnlock()
	plan.point = p.cleaner.point.Load()
	plan.truncations = p.cleaner.truncations.Load()
	if err == nil {
		plan.producerLast, err = p.producerLastOffsetsLocked()
	}
	if err == nil {
		// An open transaction's records are never cleaned, nor anything after
		// them (Kafka's first uncleanable offset is at most the first unstable
		// one): the producer state just read knows the open transactions.
		p.mu.RLock()
		committed = p.lastStableLocked()
		p.mu.RUnlock()
	}
	p.appendMu.Unlock()
	plan.result.CleanerPoint = plan.point
	if err != nil {
		return plan, err
	}

	lagCutoff := plan.now.Add(-p.opts.MinCompactionLag).UnixMilli()
	last := len(segments) - 1 // the active segment is never cleanable
	first := 0
	for first < last && segments[first].NextOffset() <= start {
		first++ // wholly below the start offset: retention's to delete
	}
	end := first
	for end < last {
		s := segments[end]
		if s.NextOffset() > committed || (p.opts.MinCompactionLag > 0 && s.MaxTimestamp() > lagCutoff) {
			break
		}
		end++
	}
	plan.cleanable, plan.next = segments[first:end], segments[end].Base()
	p.mu.RLock()
	p.planTransactionsLocked(&plan)
	p.mu.RUnlock()

	var clean, dirty int64
	plan.dirtyFrom = len(plan.cleanable)
	for i, s := range plan.cleanable {
		if s.NextOffset() <= plan.point {
			clean += s.Size()
			continue
		}
		if plan.dirtyFrom == len(plan.cleanable) {
			plan.dirtyFrom = i
		}
		dirty += s.Size()
	}
	if clean+dirty > 0 {
		plan.result.DirtyRatio = float64(dirty) / float64(clean+dirty)
	}
	switch {
	case len(plan.cleanable) == 0:
	case force:
		plan.mapEnd = len(plan.cleanable) // mapDirty may stop earlier
	case dirty > 0 && plan.result.DirtyRatio >= p.opts.MinCleanableDirtyRatio:
		plan.mapEnd = len(plan.cleanable)
	}
	return plan, nil
}

// lowerCleanerPoint makes end the cleaner point (and the bound of gaps) if it is
// lower, durably: TruncateTo removed the offsets from end on, and whatever is appended
// there again is dirty and dense. The caller holds appendMu.
func (p *Partition) lowerCleanerPoint(end int64) error {
	c := p.cleanerCheckpoint()
	if end >= c.point && end >= c.gapsBelow {
		return nil
	}
	return p.storeCleanerCheckpoint(cleanerCheckpoint{point: min(c.point, end), gapsBelow: min(c.gapsBelow, end)})
}

// cleanerCheckpoint returns what the cleaner checkpoint holds.
func (p *Partition) cleanerCheckpoint() cleanerCheckpoint {
	return cleanerCheckpoint{point: p.cleaner.point.Load(), gapsBelow: p.cleaner.gapsBelow.Load()}
}

// storeCleanerCheckpoint writes c and then makes it current. The caller holds
// appendMu (or is Open).
func (p *Partition) storeCleanerCheckpoint(c cleanerCheckpoint) error {
	if err := writeCleanerCheckpoint(p.fsys, p.dir, c); err != nil {
		return err
	}
	p.cleaner.point.Store(c.point)
	p.cleaner.gapsBelow.Store(c.gapsBelow)
	return nil
}

// readCleanerState reads the cleaner checkpoint at Open, before the segments, whose
// density it decides. A damaged one is logged and taken as a cleaner point of 0
// (everything dirty, always safe) with gaps anywhere. A missing one means a
// partition never compacted, whose segments are all dense, unless the partition is
// compacted: code before gaps-below could leave cleaned segments without the file
// (a crash, or retention, between a swap and the file's first write), so there every
// existing segment may have gaps.
func (p *Partition) readCleanerState() error {
	c, found, err := readCleanerCheckpoint(p.fsys, p.dir)
	var corrupt *errs.CorruptError
	if errors.As(err, &corrupt) {
		p.logger.Warn("ignoring damaged cleaner checkpoint: everything is dirty", "err", err)
		c, err = cleanerCheckpoint{gapsBelow: math.MaxInt64}, nil
	}
	if err != nil {
		return err
	}
	if !found && p.opts.Compact {
		c.gapsBelow = math.MaxInt64
	}
	p.cleaner.point.Store(c.point)
	p.cleaner.gapsBelow.Store(c.gapsBelow)
	return nil
}

// settleCleanerState ends Open's part of the cleaner state once the log end offset
// is known. A point above it (a crash in TruncateTo before it lowered the point) is
// lowered, durably. An unknown bound of gaps (a version 1 or damaged checkpoint)
// becomes the end offset, in memory: every segment there is may have gaps, segments
// rolled from now on are dense.
func (p *Partition) settleCleanerState() error {
	c, end := p.cleanerCheckpoint(), p.mu.written.offset
	if c.gapsBelow == math.MaxInt64 {
		p.cleaner.gapsBelow.Store(end)
	}
	if c.point > end {
		return p.storeCleanerCheckpoint(cleanerCheckpoint{point: end, gapsBelow: min(c.gapsBelow, end)})
	}
	return nil
}

// segmentOptions returns the options of the segment based at base: dense unless
// compaction may have written it.
func (p *Partition) segmentOptions(base int64) *segment.Options {
	if base >= p.cleaner.gapsBelow.Load() {
		return p.denseOpts
	}
	return p.segOpts
}
