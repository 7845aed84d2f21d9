package partition

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/stratalog/strata/segment"
)

// ScrubReport says what Scrub found in a partition directory.
type ScrubReport struct {
	Segments int   // .log files found
	Batches  int64 // valid batches read
	Bytes    int64 // bytes of valid batches read
	// Problems lists everything wrong, in the order of the log: each a *CorruptError
	// naming the file and position (ErrCorrupt), or the error that kept a file from
	// being read (a symlink: vfs.ErrSymlink). None: the partition is healthy.
	Problems []error
	// PendingCompaction is set when a compaction's swap was interrupted: Open (or
	// Repair) finishes it. Scrub reads the segments as they are.
	PendingCompaction bool
}

// Scrub reads every batch of every segment of the partition in dir and checks them
// (bounds, magic, CRC-32C, offsets that follow each other) and the sequence of
// segments against the checkpoint (and opts.RecoveryPoint, as Open uses it), as Open
// and Verify would, without changing anything: it is the scrub of a partition that
// is not open, because it is offline or about to be repaired. It returns an error only if the directory cannot be listed;
// what is wrong in it is in the report. The partition must not be open meanwhile.
func Scrub(dir string, opts *Options) (ScrubReport, error) {
	sv, err := surveyDir(dir, opts, false)
	if err != nil {
		return ScrubReport{}, err
	}
	return sv.report(), nil
}

// survey is what a partition directory holds, read without opening the partition.
type survey struct {
	p        *Partition // options and cleaner state only; never opened
	cp       checkpoint
	cpFound  bool
	cpErr    error // the checkpoint could not be read
	segments []surveyed
	faults   map[int][]fault
	pending  bool
}

// surveyed is one segment of a survey.
type surveyed struct {
	base    int64
	scan    segment.ScanResult
	readErr error // the .log could not be read at all
}

// span returns what the sequence checks need of the segment: its valid part.
func (s surveyed) span() span {
	damaged := s.readErr != nil || s.scan.Damage != nil
	return span{base: s.base, next: s.scan.NextOffset, damaged: damaged, first: s.scan.FirstTerm, hasFirst: s.scan.Batches > 0,
		Fingerprint: s.scan.Fingerprint}
}

// surveyDir reads the partition directory dir. finishSwaps finishes an interrupted
// compaction's swap first, as Open does (a change: only for Repair).
func surveyDir(dir string, opts *Options, finishSwaps bool) (*survey, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Partition{dir: dir, opts: o, fsys: o.FS, segOpts: o.segmentOptions(false), denseOpts: o.segmentOptions(true),
		logger: partitionLogger(o.Logger, dir)}
	if _, err := p.fsys.Stat(dir); err != nil {
		return nil, err
	}
	if first, found, err := readCheckpoint(p.fsys, dir); err == nil { // read again below, its error kept
		p.setStoredMax(storedMaxOf(&o, first, found))
	} else {
		p.setStoredMax(storedMaxOf(&o, checkpoint{}, true))
	}
	if finishSwaps {
		if err := p.recoverCompaction(); err != nil {
			return nil, err
		}
	}
	sv := &survey{p: p}
	sv.cp, sv.cpFound, sv.cpErr = readCheckpoint(p.fsys, dir)
	if err := p.readCleanerState(); err != nil {
		return nil, err
	}
	names, err := p.fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base, suffix, ok := segment.ParseFileName(name)
		switch {
		case !ok:
		case suffix == segment.LogSuffix:
			s := surveyed{base: base}
			s.scan, s.readErr = segment.ScanFile(p.fsys, dir, base, p.segmentOptions(base))
			if s.readErr != nil {
				s.scan = segment.ScanResult{NextOffset: base}
			}
			sv.segments = append(sv.segments, s)
		case suffix == segment.LogSuffix+segment.SwapSuffix:
			sv.pending = true
			// The checkpoint may list what the swap installs: the segments it
			// replaces are not checked against the manifest.
			swapped := OffsetRange{From: base, To: math.MaxInt64}
			if next, err := segment.ReadNextOffset(p.fsys, segment.LogPath(dir, base)+segment.SwapSuffix, base, p.segOpts); err == nil {
				swapped.To = next
			}
			p.finishedSwaps = append(p.finishedSwaps, swapped)
		case strings.HasSuffix(suffix, segment.SwapSuffix):
			sv.pending = true
		}
	}
	spans := make([]span, len(sv.segments))
	for i, s := range sv.segments {
		spans[i] = s.span()
	}
	cp := sv.cp
	if !cp.cleanShutdown {
		cp.newestMark = raisingMark(cp, &o) // as Open takes it
	}
	cp.recoveryPoint = sv.recoveryPoint() // as Open raises it
	sv.faults = sequenceFaults(dir, spans, cp, sv.cpFound, p.finishedSwaps)
	if !sv.cpFound && sv.cpErr == nil && o.RecoveryPoint > 0 && len(sv.faults[faultNoCheckpoint]) == 0 {
		sv.faults[faultNoCheckpoint] = []fault{{at: 0, err: checkpointLostError(dir, o.RecoveryPoint)}}
	}
	if sv.cpErr != nil {
		delete(sv.faults, faultNoCheckpoint) // not missing: damaged, reported as such
	}
	return sv, nil
}

// recoveryPoint returns the offset below which every offset was fsynced, as far as
// the survey knows: the checkpoint's and, unless it records a clean shutdown,
// Options.RecoveryPoint if greater (also when the checkpoint is missing or damaged:
// Repair then still never lets the end offset go below it).
func (sv *survey) recoveryPoint() int64 {
	if sv.cpFound && sv.cp.cleanShutdown {
		return sv.cp.recoveryPoint
	}
	return max(sv.cp.recoveryPoint, sv.p.opts.RecoveryPoint) // cp is zero unless found
}

// problems lists what is wrong, in the order of the log.
func (sv *survey) problems() []error {
	var problems []error
	if sv.cpErr != nil {
		problems = append(problems, sv.cpErr)
	}
	type located struct {
		offset int64
		err    error
	}
	var found []located
	for _, s := range sv.segments {
		switch {
		case s.readErr != nil:
			found = append(found, located{s.base, errorf("strata/partition: segment %s cannot be read: %w", segment.LogPath(sv.p.dir, s.base), s.readErr)})
		case s.scan.Damage != nil:
			found = append(found, located{s.scan.NextOffset, s.scan.Damage})
		}
	}
	for _, faults := range sv.faults {
		for _, f := range faults {
			found = append(found, located{f.from, f.err})
		}
	}
	slices.SortStableFunc(found, func(a, b located) int { return cmp.Compare(a.offset, b.offset) })
	for _, l := range found {
		problems = append(problems, l.err)
	}
	return problems
}

func (sv *survey) report() ScrubReport {
	r := ScrubReport{Segments: len(sv.segments), Problems: sv.problems(), PendingCompaction: sv.pending}
	for _, s := range sv.segments {
		r.Batches += s.scan.Batches
		r.Bytes += s.scan.ValidSize
	}
	return r
}
