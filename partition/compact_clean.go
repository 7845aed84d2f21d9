package partition

import (
	"cmp"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"

	"github.com/stratalog/strata/index"
	"github.com/stratalog/strata/segment"
)

// cleaning is one compaction in progress: the plan, the key map, the groups of
// segments being rewritten and the buffers reused from batch to batch.
type cleaning struct {
	p     *Partition
	plan  compactionPlan
	nowMs int64
	m     *offsetMap
	// newPoint is the cleaner point once the groups are installed: the base of the
	// first segment after the mapped ones.
	newPoint int64
	groups   []*cleanGroup
	// skipped is set by install when retention removed segments of a group meanwhile:
	// the cleaner point then stays where it was.
	skipped bool

	reader  sealedReader
	dec     segment.Decoder
	rec     Record
	kept    []Record // records of the current batch that stay
	headers []Header // copies of their headers (Decoder.Next reuses its own)
	out     []byte   // the rewritten batch
	batches int      // batches read, for the periodic stop check
	txn     txnCleaning
}

// cleanGroup is a run of neighbouring segments rewritten into one cleaned segment.
type cleanGroup struct {
	old       []*segment.Segment
	out       *segment.Segment // nil once discarded, or if nothing changed
	changed   bool             // a batch was dropped or rewritten, or segments merge
	installed bool
	// pending is an empty batch that ends the last segment added: it is written
	// when the group ends (so that the cleaned segment ends where that segment
	// ended), and dropped if another segment joins.
	pending       []byte
	pendingHeader segment.BatchHeader
	bytesIn       int64
	removed       int64 // records removed
	tombstone     int64 // tombstones among them
}

func newCleaning(p *Partition, plan compactionPlan) *cleaning {
	c := &cleaning{p: p, plan: plan, nowMs: plan.now.UnixMilli(), m: newOffsetMap(), newPoint: plan.point}
	c.reader.p = p
	c.reader.truncations = plan.truncations
	c.dec.MaxDecompressedBytes = segment.MaxDecompressedFor(p.storedMax)
	return c
}

// settle turns a compaction that lost a race with retention, truncation or Close
// into a compaction that did nothing; other errors stay.
func (c *cleaning) settle(err error) error {
	if errors.Is(err, errCompactionRaced) {
		c.p.logger.Debug("compaction gave up: segments changed meanwhile")
		return nil
	}
	return err
}

// discard removes the cleaned files of groups that were not installed.
func (c *cleaning) discard() {
	for _, g := range c.groups {
		if g.out != nil && !g.installed {
			g.out.Close() // an index that failed a write reports it again: the files go anyway
			if err := c.p.removeCleaned(g.out.Base()); err != nil {
				c.p.logger.Warn("cannot remove cleaned segment; Open will", "file", g.out.Path(), "err", err)
			}
			g.out = nil
		}
	}
}

// removeCleaned deletes the .cleaned files of base, those that exist. The directory
// is not fsynced: Open deletes any that come back.
func (p *Partition) removeCleaned(base int64) error {
	var err error
	for _, path := range []string{segment.LogPath(p.dir, base), segment.IndexPath(p.dir, base), segment.TimeIndexPath(p.dir, base), segment.TxnIndexPath(p.dir, base)} {
		if rmErr := p.fsys.Remove(path + segment.CleanedSuffix); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
	}
	return err
}

// result sums up the installed groups.
func (c *cleaning) result() CompactionResult {
	res := c.plan.result
	res.CleanerPoint = c.p.cleaner.point.Load()
	for _, g := range c.groups {
		if !g.installed {
			continue
		}
		res.Compacted = true
		res.SegmentsRead += len(g.old)
		res.SegmentsWritten++
		res.BytesRead += g.bytesIn
		res.BytesWritten += g.out.Size()
		res.RecordsRemoved += g.removed
		res.TombstonesRemoved += g.tombstone
	}
	return res
}

// tick checks, every 64 batches, whether the compaction must stop.
func (c *cleaning) tick(ctx context.Context) error {
	c.batches++
	if c.batches%64 != 0 {
		return nil
	}
	select {
	case <-c.p.stop:
		return errCompactionRaced // Close waits for us: give up quietly
	default:
	}
	return ctx.Err()
}

// mapDirty builds the key map over the dirty segments, stopping at a segment boundary
// once CleanerMapBytes are spent (after at least one segment), and sets plan.mapEnd
// and newPoint accordingly.
func (c *cleaning) mapDirty(ctx context.Context) error {
	plan := &c.plan
	for i := plan.dirtyFrom; i < plan.mapEnd; i++ {
		if i > plan.dirtyFrom && c.m.size() >= c.p.opts.CleanerMapBytes {
			plan.mapEnd = i
			break
		}
		if err := c.mapSegment(ctx, plan.cleanable[i]); err != nil {
			return err
		}
	}
	next := plan.next
	if plan.mapEnd < len(plan.cleanable) {
		next = plan.cleanable[plan.mapEnd].Base()
	}
	c.newPoint = max(plan.point, next)
	return nil
}

// mapSegment puts the key of every record of s at or above the cleaner point into
// the map. Control batches hold no keys; the keys of an lz4 batch cannot be read, and
// such a batch is kept whole (a record it supersedes stays too, which is safe).
func (c *cleaning) mapSegment(ctx context.Context, s *segment.Segment) error {
	c.reader.reset(s)
	for {
		if err := c.tick(ctx); err != nil {
			return err
		}
		pos, h, batch, err := c.reader.batch()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.IsControl() || h.LastOffset() < c.plan.point || c.abortedBatch(&h) {
			continue
		}
		if err := c.dec.Reset(batch); err != nil {
			if errors.Is(err, segment.ErrUnsupportedCompression) {
				continue
			}
			return c.reader.corrupt(pos, err)
		}
		for {
			ok, err := c.dec.Next(&c.rec)
			if err != nil {
				return c.reader.corrupt(pos, err)
			}
			if !ok {
				break
			}
			if c.rec.Key != nil && c.rec.Offset >= c.plan.point {
				c.m.put(c.rec.Key, c.rec.Offset)
			}
		}
	}
}

// fitsGroup reports whether segment s may join group g, whose cleaned segment holds
// written bytes so far: its bytes, an upper bound of what it adds, must keep the
// cleaned segment within SegmentBytes (Kafka's groupSegmentsBySize, which counts the
// bytes before cleaning), its offsets within 32 bits of the group's base, and the
// entries of a time index of MaxIndexBytes must have room.
func (p *Partition) fitsGroup(g *cleanGroup, written int64, s *segment.Segment) bool {
	interval := int64(cmp.Or(p.opts.IndexIntervalBytes, segment.DefaultIndexIntervalBytes))
	maxTimeEntries := int64(cmp.Or(p.opts.MaxIndexBytes, segment.DefaultMaxIndexBytes) / index.TimeEntrySize)
	total := written + s.Size()
	return total <= p.opts.SegmentBytes && s.NextOffset()-1-g.old[0].Base() <= math.MaxInt32 && total/interval+3 <= maxTimeEntries
}

// cleanGroups rewrites the mapped segments into cleaned segments, grouping
// neighbours as long as they fit (fitsGroup) after what the group's earlier segments
// became. Empty segments are left alone.
func (c *cleaning) cleanGroups(ctx context.Context) error {
	var g *cleanGroup
	finish := func() error {
		err := c.finishGroup(g)
		g = nil
		return err
	}
	for _, s := range c.plan.cleanable[:c.plan.mapEnd] {
		if g != nil && (s.Size() == 0 || !c.p.fitsGroup(g, g.out.Size(), s)) {
			if err := finish(); err != nil {
				return err
			}
		}
		if s.Size() == 0 {
			continue
		}
		if g == nil {
			out, err := segment.CreateWithSuffix(c.p.fsys, c.p.dir, s.Base(), c.p.segOpts, segment.CleanedSuffix)
			if err != nil {
				_ = c.p.removeCleaned(s.Base()) // Create may have made some of the files
				return err
			}
			g = &cleanGroup{out: out}
			c.groups = append(c.groups, g)
		}
		g.old = append(g.old, s)
		g.changed = g.changed || len(g.old) > 1
		g.pending = g.pending[:0]
		if err := c.cleanSegment(ctx, g, s); err != nil {
			return err
		}
	}
	if g != nil {
		return finish()
	}
	return nil
}

// finishGroup writes the pending empty batch of g and fsyncs its cleaned segment, or
// removes it if g is a single segment in which nothing changed.
func (c *cleaning) finishGroup(g *cleanGroup) error {
	if g.changed {
		if len(g.pending) > 0 {
			if err := c.append(g, g.pending, &g.pendingHeader); err != nil {
				return err
			}
		}
		return g.out.Seal()
	}
	out := g.out
	g.out = nil
	return errors.Join(out.Close(), c.p.removeCleaned(out.Base()))
}

// cleanSegment writes what stays of segment s into the cleaned segment of g. The last
// batch of s stays even when empty, so that the cleaned segment spans exactly the
// offsets of the segments it replaces (recovery relies on it).
func (c *cleaning) cleanSegment(ctx context.Context, g *cleanGroup, s *segment.Segment) error {
	p := c.p
	g.bytesIn += s.Size()
	// The aborted transactions stay indexed: their records may outlive the
	// cleaning (as Kafka's cleaner, which rebuilds the cleaned segment's index).
	for _, t := range s.AbortedTxns(nil, 0) {
		if err := g.out.AppendAbortedTxn(t); err != nil {
			return err
		}
	}
	c.reader.reset(s)
	for {
		if err := c.tick(ctx); err != nil {
			return err
		}
		pos, h, batch, err := c.reader.batch()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		segmentLast := pos+int64(h.Size()) == c.reader.end
		kept, err := c.filter(g, &h, batch, segmentLast, pos)
		if err != nil {
			return err
		}
		if kept == nil {
			continue
		}
		kh, err := segment.ParseBatchHeader(kept, p.storedMax)
		if err != nil {
			return errorf("strata/partition: compact %s: rewritten batch at offset %d: %w", p.dir, h.BaseOffset, err)
		}
		if segmentLast && kh.RecordCount == 0 {
			g.pending, g.pendingHeader = append(g.pending[:0], kept...), kh
			continue
		}
		if err := c.append(g, kept, &kh); err != nil {
			return err
		}
	}
}

// append writes a batch to the cleaned segment of g.
func (c *cleaning) append(g *cleanGroup, batch []byte, h *segment.BatchHeader) error {
	err := g.out.Append(batch, h)
	if errors.Is(err, segment.ErrFull) {
		err = errorf("strata/partition: compact %s: the cleaned segment at %d has no room for the batch at %d (MaxIndexBytes or the segment size limit): %w",
			c.p.dir, g.out.Base(), h.BaseOffset, err)
	}
	return err
}

// filterRecords returns what replaces the batch at pos in the cleaned segment: batch itself
// when nothing changes, a rewritten batch, or nil to drop it (the last batch of a
// segment is rewritten empty instead, so that the cleaned segment keeps its offsets,
// and so is a producer's newest batch, so that the log keeps its sequence).
// An empty batch left by an earlier compaction goes unless it is still a segment's
// last.
func (c *cleaning) filterRecords(g *cleanGroup, h *segment.BatchHeader, batch []byte, segmentLast bool, pos int64) ([]byte, error) {
	// A producer's newest batch stays too, emptied if need be (producerLast).
	segmentLast = segmentLast || (h.ProducerID >= 0 && c.plan.producerLast[h.ProducerID] == h.LastOffset())
	if h.RecordCount == 0 && !segmentLast {
		g.changed = true
		return nil, nil
	}
	if h.IsControl() || h.RecordCount == 0 {
		return batch, nil
	}
	if err := c.dec.Reset(batch); err != nil {
		if errors.Is(err, segment.ErrUnsupportedCompression) {
			return batch, nil // lz4: strata can neither read nor rewrite it; keep it whole
		}
		return nil, c.reader.corrupt(pos, err)
	}
	keepTombstones := c.p.opts.DeleteRetention < 0
	horizon, hasHorizon := h.DeleteHorizon()
	c.kept, c.headers = c.kept[:0], c.headers[:0]
	var removed, tombstones int64
	tombstonesKept := false
	for {
		ok, err := c.dec.Next(&c.rec)
		if err != nil {
			return nil, c.reader.corrupt(pos, err)
		}
		if !ok {
			break
		}
		r := c.rec
		if r.Key != nil {
			if latest, found := c.m.latest(r.Key); found && latest > r.Offset {
				removed++
				continue
			}
			if r.Value == nil {
				if hasHorizon && !keepTombstones && horizon <= c.nowMs {
					removed++
					tombstones++
					continue
				}
				tombstonesKept = true
			}
		}
		if len(r.Headers) > 0 {
			start := len(c.headers)
			c.headers = append(c.headers, r.Headers...)
			r.Headers = c.headers[start:len(c.headers):len(c.headers)]
		}
		c.kept = append(c.kept, r)
	}
	newHorizon := int64(segment.NoDeleteHorizon)
	switch {
	case tombstonesKept && hasHorizon:
		newHorizon = horizon
	case tombstonesKept && !keepTombstones:
		newHorizon = c.nowMs + c.p.opts.DeleteRetention.Milliseconds()
	}
	oldHorizon := int64(segment.NoDeleteHorizon)
	if hasHorizon {
		oldHorizon = horizon
	}
	if removed == 0 && newHorizon == oldHorizon {
		return batch, nil
	}
	if len(c.kept) == 0 && !segmentLast {
		g.changed = true
		g.removed += removed
		g.tombstone += tombstones
		return nil, nil
	}
	out, err := segment.AppendFilteredBatch(c.out[:0], h, c.kept, newHorizon)
	if err == nil && len(out) > c.p.storedMax && newHorizon != segment.NoDeleteHorizon {
		// A delete horizon stores timestamps as larger deltas: if that makes the batch
		// too large, keep the tombstones without a horizon for now.
		out, err = segment.AppendFilteredBatch(c.out[:0], h, c.kept, segment.NoDeleteHorizon)
	}
	if err != nil {
		return nil, errorf("strata/partition: compact %s: rewrite the batch at offset %d: %w", c.p.dir, h.BaseOffset, err)
	}
	c.out = out
	if len(out) > c.p.storedMax {
		return batch, nil // re-encoding a compressed batch grew it: keep it whole
	}
	g.changed = true
	g.removed += removed
	g.tombstone += tombstones
	return out, nil
}
