package partition

import (
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// Open opens the partition in dir, creating the directory and an empty log if there
// is none. nil opts means the defaults. After an unclean shutdown it recovers: every
// segment from the recovery point on (the checkpoint's, or Options.RecoveryPoint if
// greater) is verified batch by batch, a torn tail of the last segment is truncated
// (see RecoveryReport), and invalid bytes anywhere that was fsynced, or a log that
// ends below the recovery point, are a *CorruptError instead of a silent truncation.
func Open(dir string, opts *Options) (*Partition, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Partition{
		dir:       dir,
		opts:      o,
		fsys:      o.FS,
		segOpts:   o.segmentOptions(false),
		denseOpts: o.segmentOptions(true),
		logger:    partitionLogger(o.Logger, dir),
		syncSem:   make(chan struct{}, 1),
		flushKick: make(chan struct{}, 1),
		stop:      make(chan struct{}),
		producers: newProducerStates(),
	}
	p.replicated.Store(o.Replicated)
	if err := p.ensureDir(); err != nil {
		return nil, err
	}
	if err := p.load(); err != nil {
		p.mu.RLock()
		for _, s := range p.mu.segments {
			s.Close()
		}
		p.mu.RUnlock()
		return nil, err
	}
	if p.opts.Sync.Mode == SyncPeriodic {
		p.done.Add(1)
		go p.flushLoop()
	}
	return p, nil
}

// ensureDir creates the partition directory, and any missing parent, durably.
func (p *Partition) ensureDir() error { return vfs.MkdirAllSync(p.fsys, p.dir) }

// load reads the checkpoint and the directory, opens or recovers every segment, and
// sets the partition's offsets.
func (p *Partition) load() error {
	cp, found, err := readCheckpoint(p.fsys, p.dir)
	if err != nil {
		return err
	}
	p.setStoredMax(storedMaxOf(&p.opts, cp, found))
	if err := p.readCleanerState(); err != nil {
		return err
	}
	clean := found && cp.cleanShutdown
	switch {
	case found && !clean:
		// The recovery point decides everything below (which segments are verified,
		// where a torn tail may begin, how far the log must reach), and a point
		// recorded outside the directory since the last roll only raises it.
		cp.newestMark = raisingMark(cp, &p.opts)
		cp.recoveryPoint = max(cp.recoveryPoint, p.opts.RecoveryPoint)
	case !found && p.opts.RecoveryPoint > 0:
		return checkpointLostError(p.dir, p.opts.RecoveryPoint)
	}
	p.report.CleanShutdown, p.report.RecoveryPoint, p.report.Created = clean, cp.recoveryPoint, !found

	bases, err := p.scanDir()
	if err != nil {
		return err
	}
	recoverFrom := len(bases) // index of the first segment to verify
	if !clean {
		recoverFrom = 0
		for i, b := range bases {
			if b <= cp.recoveryPoint {
				recoverFrom = i
			}
		}
	}
	segments := make([]*segment.Segment, 0, len(bases))
	for i, base := range bases {
		var s *segment.Segment
		if i < recoverFrom {
			s, err = segment.Open(p.fsys, p.dir, base, p.segmentOptions(base))
		} else {
			// Only the last segment may end in a torn write: a segment is fsynced
			// when the next one is created.
			flushed := int64(math.MaxInt64)
			if i == len(bases)-1 {
				flushed = cp.recoveryPoint
			}
			var t segment.Truncation
			s, t, err = segment.Recover(p.fsys, p.dir, base, p.segmentOptions(base), flushed)
			if err == nil {
				p.report.SegmentsRecovered++
				if t.Bytes > 0 {
					p.report.Truncated = append(p.report.Truncated, t)
					p.logTruncation(t)
				}
			}
		}
		if err != nil {
			p.mu.segments = segments
			return err
		}
		segments = append(segments, s)
	}
	p.mu.segments = segments
	if err := p.checkSequence(cp, found); err != nil {
		return err
	}
	if err := p.settle(cp); err != nil {
		return err
	}
	if err := p.openProducers(); err != nil {
		return err
	}
	return p.settleCleanerState()
}

// checkpointLostError says that the partition in dir has no checkpoint although
// offsets below recoveryPoint (Options.RecoveryPoint) were fsynced: Open writes the
// checkpoint before the first record, so it was lost, with the records or not.
func checkpointLostError(dir string, recoveryPoint int64) error {
	return errs.Corruptf(filepath.Join(dir, CheckpointFile), 0,
		"missing, but every offset below %d was fsynced (Options.RecoveryPoint): the log start offset and recovery point are lost", recoveryPoint)
}

// logTruncation reports a cut tail. A partial batch or garbage is what a torn write
// leaves (Warn). A whole batch that failed its CRC is one too, or a flipped bit in the
// last batch fsynced before the crash, which nothing on disk tells apart: Error, so
// that it is never silent.
func (p *Partition) logTruncation(t segment.Truncation) {
	if t.Whole || t.Reordered {
		p.logger.Error("truncated a whole batch that failed its CRC, or valid batches after an invalid one (a lazily synced tail written out of order), after a crash",
			"file", t.Path, "position", t.Position, "bytes", t.Bytes, "reason", t.Reason)
		return
	}
	p.logger.Warn("truncated torn tail", "file", t.Path, "position", t.Position, "bytes", t.Bytes, "reason", t.Reason)
}

// checkSequence checks that the segments found make the log that the checkpoint
// describes (see survey.go): what strata wrote and cannot find, or what it never
// wrote, is a *CorruptError, never a silently shorter, longer or gapped log.
func (p *Partition) checkSequence(cp checkpoint, found bool) error {
	spans := make([]span, len(p.mu.segments))
	for i, s := range p.mu.segments {
		first, hasFirst := s.FirstTerm()
		spans[i] = span{base: s.Base(), next: s.NextOffset(), first: first, hasFirst: hasFirst, Fingerprint: s.Fingerprint()}
	}
	if err := firstFault(sequenceFaults(p.dir, spans, cp, found, p.finishedSwaps)); err != nil {
		return err
	}
	adoptDigests(p.mu.segments, cp)
	return nil
}

// scanDir lists the segments in the directory by base offset and deletes leftovers:
// temp files and indexes without a .log. It first finishes or undoes a compaction's
// swap that a crash interrupted (.swap and .cleaned files).
func (p *Partition) scanDir() ([]int64, error) {
	if err := p.recoverCompaction(); err != nil {
		return nil, err
	}
	names, err := p.fsys.ReadDir(p.dir)
	if err != nil {
		return nil, err
	}
	logs := map[int64]bool{}
	for _, name := range names {
		if name == LeaderEpochCheckpointFile {
			p.epochs.onDisk = true // epochs.go: loaded before the first append
		}
		if base, suffix, ok := segment.ParseFileName(name); ok && suffix == segment.LogSuffix {
			logs[base] = true
		}
		if offset, ok := parseSnapshotName(name); ok {
			p.snapshots = append(p.snapshots, offset) // names are sorted
		}
	}
	var bases []int64
	removed := false
	for _, name := range names {
		base, suffix, ok := segment.ParseFileName(name)
		orphan := ok && (suffix == segment.IndexSuffix || suffix == segment.TimeIndexSuffix || suffix == segment.TxnIndexSuffix) && !logs[base]
		if orphan || strings.HasSuffix(name, ".tmp") {
			if err := p.fsys.Remove(filepath.Join(p.dir, name)); err != nil {
				return nil, err
			}
			p.report.RemovedFiles = append(p.report.RemovedFiles, name)
			removed = true
			continue
		}
		if ok && suffix == segment.LogSuffix {
			bases = append(bases, base) // names are sorted, and so are 20-digit bases
		}
	}
	if removed {
		if err := p.fsys.SyncDir(p.dir); err != nil {
			return nil, err
		}
	}
	return bases, nil
}

// settle makes the loaded segments a consistent log: it drops segments wholly below
// the log start offset, creates a first segment if there is none, makes recovered
// data durable, writes a fresh (not clean) checkpoint and sets the marks.
func (p *Partition) settle(cp checkpoint) error {
	segments := p.mu.segments
	start := cp.logStartOffset
	if n := len(segments); n > 0 && segments[n-1].NextOffset() < start {
		// Everything up to start was deleted, and the tail was lost (a crash under a
		// lazy sync policy): start over empty at start, as Kafka does.
		for _, s := range segments {
			if err := s.Remove(); err != nil {
				return err
			}
		}
		segments = nil
	}
	for len(segments) > 1 && segments[1].Base() <= start {
		p.report.RemovedFiles = append(p.report.RemovedFiles, segment.FileName(segments[0].Base(), segment.LogSuffix))
		if err := segments[0].Remove(); err != nil {
			return err
		}
		segments = segments[1:]
	}
	if len(segments) == 0 {
		s, err := segment.Create(p.fsys, p.dir, start, p.segmentOptions(start))
		if err != nil {
			return err
		}
		segments = append(segments, s)
	}
	p.mu.segments = segments
	for _, s := range segments[:len(segments)-1] {
		p.mapSealed(s)
	}
	active := segments[len(segments)-1]
	start = max(start, segments[0].Base())
	end := active.NextOffset()
	// A clean shutdown that Open found exactly as it was left needs no write at all:
	// the checkpoint still says clean, and the first change (markDirtyLocked) says
	// otherwise before it touches a file. Opening many partitions then costs no fsync.
	untouched := p.report.CleanShutdown && len(p.report.RemovedFiles) == 0 &&
		start == cp.logStartOffset && end == cp.recoveryPoint
	if untouched {
		p.clean = true
	} else {
		if err := p.fsys.SyncDir(p.dir); err != nil {
			return err
		}
		if !p.report.CleanShutdown {
			// Recovered bytes may sit only in the page cache (a process crash): make
			// them durable before counting them as flushed.
			if err := active.Sync(); err != nil {
				return err
			}
		}
		if err := p.writeCheckpoint(checkpoint{logStartOffset: start, recoveryPoint: end, newestSegment: active.Base(), manifest: sealedOf(segments)}); err != nil {
			return err
		}
	}
	p.recoveryPoint = end
	p.newestBase.Store(active.Base())
	m := mark{offset: end, seg: active, pos: active.Size()}
	p.mu.start, p.mu.written, p.mu.acked, p.mu.committed, p.mu.durable = start, m, m, m, end
	if p.replicated.Load() {
		// Readers see nothing until the owner sets the high watermark.
		hw, err := p.markAtLocked(start)
		if err != nil {
			return err
		}
		p.mu.committed = hw
	}
	p.activeSince = p.opts.Now()
	if ts := active.FirstTimestamp(); ts >= 0 {
		p.activeSince = time.UnixMilli(ts)
	}
	return nil
}
