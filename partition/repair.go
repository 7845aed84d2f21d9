package partition

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// RepairOptions configure Repair. The zero value is valid.
type RepairOptions struct {
	// KeepDir is the directory that receives a copy of everything Repair removes:
	// segment files moved whole, and the bytes cut from a segment's end. It must be
	// on the partition's filesystem (segments are moved by rename; another one fails
	// before anything is cut). Default: a new directory "repair-<UTC time>" inside the
	// partition directory, which strata never reads or removes (deleting the topic
	// removes it with the rest).
	KeepDir string
	// KeepLater keeps the valid segments after a damaged range: the damaged range is
	// cut out and its offsets become a gap that readers skip, as they skip what
	// compaction removed. By default Repair truncates the log at the first problem
	// and moves everything after it to KeepDir, as Kafka's recovery would.
	KeepLater bool
	// Now is the clock that names the default KeepDir. Default time.Now.
	Now func() time.Time
}

// RepairReport says what Repair found and did.
type RepairReport struct {
	// Problems lists what was wrong, as Scrub reports it. None: nothing was changed.
	Problems []error
	// Lost lists the offsets given up, in order: offsets the log held, or had
	// promised by its checkpoint or Options.RecoveryPoint, that are no longer
	// readable.
	Lost []OffsetRange
	// Actions says what was done, one line each, in order.
	Actions []string
	// KeepDir is where the removed bytes and files were kept ("" if none were).
	KeepDir string
	// StartOffset and EndOffset are the repaired log's. Offsets never go back: the
	// end offset is at least the greatest offset the partition held or promised, so
	// that no offset a consumer saw or committed is ever given to another record.
	StartOffset, EndOffset int64
}

// Repair makes the damaged partition in dir open again, explicitly and never
// silently: it is never run by Open. It reads every batch as Scrub does; at the first
// problem it cuts the log (or, with KeepLater, cuts out each damaged range),
// copying everything it removes to KeepDir first, and reports exactly which offsets
// it gives up. Indexes of the segments it changes are rebuilt by the next Open;
// their aborted-transaction index entries whose ABORT marker it gives up are
// dropped (a transaction whose records it keeps is then open, and holds the last
// stable offset until it is ended again), and a segment moved away takes its
// .txnindex along.
// Missing offsets (a segment file gone) become a gap or the new start; a stray
// segment file is moved away. New records never reuse an offset: after a cut, the
// log continues at the greatest offset it had reached, or that its recovery point
// (opts.RecoveryPoint included, as Open uses it) says was fsynced. The partition
// must not be open (in this process or another) during Repair. With a healthy
// partition it changes nothing. On success the repaired partition has been opened and closed
// once, so it opens. A damaged partition.checkpoint is rewritten with the log start
// offset at the first segment's base: records that DeleteRecordsBefore had hidden
// (but retention had not removed) become readable again.
func Repair(dir string, opts *Options, ropts *RepairOptions) (RepairReport, error) {
	var ro RepairOptions
	if ropts != nil {
		ro = *ropts
	}
	if ro.Now == nil {
		ro.Now = time.Now
	}
	sv, err := surveyDir(dir, opts, true)
	if err != nil {
		return RepairReport{}, err
	}
	report := RepairReport{Problems: sv.problems()}
	if len(report.Problems) == 0 {
		report.StartOffset, report.EndOffset = sv.bounds()
		return report, nil
	}
	if ro.KeepDir == "" {
		ro.KeepDir = filepath.Join(dir, "repair-"+ro.Now().UTC().Format("20060102T150405.000000000Z"))
	}
	if n := len(sv.segments); n > 0 && sv.segments[n-1].readErr != nil {
		last := sv.segments[n-1]
		return report, errorf("strata/partition: repair %s: the newest segment %s cannot be read (%w), so how far its offsets reached cannot be known: restore it, or move it away to give up its records, and repair again",
			dir, segment.LogPath(dir, last.base), last.readErr)
	}
	r := &repair{sv: sv, fsys: sv.p.fsys, dir: dir, keep: ro.KeepDir, report: &report}
	r.plan(ro.KeepLater)
	if err := r.apply(); err != nil {
		return report, errorf("strata/partition: repair %s: %w", dir, err)
	}
	o := sv.p.opts
	p, err := Open(dir, &o)
	if err != nil {
		return report, errorf("strata/partition: repair %s: the repaired partition does not open: %w", dir, err)
	}
	report.StartOffset, report.EndOffset = p.StartOffset(), p.EndOffset()
	return report, p.Close()
}

// bounds returns the start and end offsets of a healthy survey.
func (sv *survey) bounds() (start, end int64) {
	if len(sv.segments) == 0 {
		return sv.cp.logStartOffset, sv.cp.logStartOffset
	}
	return max(sv.cp.logStartOffset, sv.segments[0].base), sv.segments[len(sv.segments)-1].scan.NextOffset
}

// repair is one Repair's plan and its execution.
type repair struct {
	sv     *survey
	fsys   vfs.FS
	dir    string
	keep   string
	report *RepairReport

	cut     map[int]int64       // segment index -> position its .log is cut at (0: emptied)
	remove  map[int]bool        // segment indexes moved to keep whole
	fillers map[int]OffsetRange // segment index -> the offsets an empty batch at its end covers
	start   int64               // the repaired log start offset
	end     int64               // the repaired end offset
	fresh   bool                // no segment is kept: an empty one is made at end
	// rewritten are the manifest entries of the segments rewriteEnd changed, as
	// they read back.
	rewritten map[int]manifestEntry
}

// plan decides what to cut and remove, and what is lost. Offsets given up inside
// the log are covered by an empty batch (no records, its lastOffsetDelta spanning
// them, as compaction leaves one) at the end of the segment before them: the log
// keeps following on without a gap, and readers step over it.
func (r *repair) plan(keepLater bool) {
	sv := r.sv
	r.cut, r.remove, r.fillers = map[int]int64{}, map[int]bool{}, map[int]OffsetRange{}
	// The greatest offset the partition held or promised: it never goes back.
	r.end = sv.recoveryPoint()
	stray := map[int]bool{}
	for _, f := range sv.faults[faultStrayTail] {
		if s := sv.segments[f.at]; s.base >= sv.cp.recoveryPoint {
			stray[f.at] = true // a segment wholly above a clean end: not strata's
		}
	}
	for _, f := range sv.faults[faultGap] {
		if sv.segments[f.at].scan.Size == 0 {
			stray[f.at] = true // an empty file after a gap: not strata's
		}
	}
	for i, s := range sv.segments {
		if !stray[i] {
			// Valid batches after damage count too: after a crash, their offsets were
			// acknowledged above the recovery point, and may have been consumed.
			r.end = max(r.end, s.scan.NextOffset, s.scan.SeenEnd)
		}
	}
	for _, f := range sv.faults[faultNewestMissing] {
		// The newest segment is gone, and with it how far its offsets reached: the
		// log continues at its base at least, and the report says what is unknown.
		r.end = max(r.end, f.from)
		r.act("the newest segment (base %d) is missing: how far its records reached is unknown, and offsets from %d on may be given out again", f.from, f.from)
	}

	// Where each segment stops being usable: its damage, or (for the sequence) the
	// whole segment.
	bad := map[int]int64{} // segment index -> valid bytes kept
	for i, s := range sv.segments {
		switch {
		case s.readErr != nil:
			bad[i] = -1 // unreadable: moved away whole
		case s.scan.Damage != nil:
			bad[i] = s.scan.ValidSize
		}
	}
	for _, f := range sv.faults[faultOverlap] {
		bad[f.at] = -1
	}
	for _, f := range sv.faults[faultManifest] {
		bad[f.at] = -1 // not the segment written here
	}
	for i := range stray {
		bad[i] = -1
	}
	if !keepLater {
		first := len(sv.segments)
		for _, f := range sv.faults[faultGap] {
			first = min(first, f.at)
			bad[f.at] = -1
		}
		for i := range bad {
			first = min(first, i)
		}
		for i := first + 1; i < len(sv.segments); i++ {
			bad[i] = -1
		}
	}
	for i, keep := range bad {
		if keep >= 0 {
			r.cut[i] = keep // cut at keep; 0 leaves the file empty but in place
		} else {
			r.remove[i] = true
		}
	}

	// What remains, and what is lost: every offset below end that the kept segments
	// do not hold, above the start.
	r.start = sv.cpStart()
	var kept []int // indexes of the segments kept
	for i := range sv.segments {
		if !r.remove[i] {
			kept = append(kept, i)
		}
	}
	if len(kept) == 0 {
		r.start, r.fresh = max(r.start, r.end), true
		r.lose(sv.cpStart(), r.start)
		return
	}
	r.start = max(r.start, min(sv.segments[kept[0]].base, r.end))
	r.lose(sv.cpStart(), r.start)
	for k, i := range kept {
		next := r.end
		if k+1 < len(kept) {
			next = sv.segments[kept[k+1]].base
		}
		if held := sv.segments[i].scan.NextOffset; held < next {
			r.fillers[i] = OffsetRange{From: held, To: next}
			r.lose(held, next)
		}
	}
}

// cpStart returns the checkpointed log start offset, or 0.
func (sv *survey) cpStart() int64 {
	if sv.cpFound {
		return sv.cp.logStartOffset
	}
	return 0
}

// lose records the offsets [from, to) as given up.
func (r *repair) lose(from, to int64) {
	if from >= to {
		return
	}
	lost := r.report.Lost
	if n := len(lost); n > 0 && lost[n-1].To >= from {
		lost[n-1].To = max(lost[n-1].To, to)
		return
	}
	r.report.Lost = append(lost, OffsetRange{From: from, To: to})
}

// apply carries the plan out. First the checkpoint records the end offset (so that a
// repair interrupted later still knows how far the offsets reached), then copies
// and moves, the cuts and the empty batches over lost offsets, a fresh segment if
// none is left, and last the checkpoint of the repaired log. A crash midway leaves a
// partition that Repair can take up again.
func (r *repair) apply() error {
	sv := r.sv
	// A manifest (or newest-segment) left as it was would make a resumed repair
	// take the segments this one cuts, fills or moves for segments not written
	// here (or missing), and give up what this one kept: it lists only the segments
	// left as they are.
	if !sv.cpFound || sv.cp.recoveryPoint < r.end || sv.cp.cleanShutdown || sv.cp.hasManifest || sv.cp.newestSegment >= 0 {
		if err := r.sv.p.writeCheckpoint(checkpoint{logStartOffset: sv.cpStart(), recoveryPoint: r.end, newestSegment: -1, manifest: r.untouched()}); err != nil {
			return err
		}
	}
	if err := r.removeSnapshotsAboveLost(); err != nil {
		return err
	}
	if len(r.remove) > 0 || slices.ContainsFunc(sortedKeys(r.cut), func(i int) bool { return r.cut[i] < sv.segments[i].scan.Size }) {
		if err := vfs.MkdirAllSync(r.fsys, r.keep); err != nil {
			return err
		}
		r.report.KeepDir = r.keep
	}
	for _, i := range sortedKeys(r.cut) {
		s := sv.segments[i]
		if r.cut[i] == s.scan.Size {
			continue // nothing cut: only an empty batch is added
		}
		name := segment.FileName(s.base, segment.LogSuffix)
		copyName := fmt.Sprintf("%s.from-%d", name, r.cut[i])
		if err := copyTail(r.fsys, segment.LogPath(r.dir, s.base), filepath.Join(r.keep, copyName), r.cut[i]); err != nil {
			return err
		}
		r.act("copied %s from position %d (offset %d on) to %s", name, r.cut[i], s.scan.NextOffset, filepath.Join(r.keep, copyName))
	}
	for _, i := range sortedKeys(r.remove) {
		s := sv.segments[i]
		for _, suffix := range []string{segment.LogSuffix, segment.IndexSuffix, segment.TimeIndexSuffix, segment.TxnIndexSuffix} {
			name := segment.FileName(s.base, suffix)
			err := r.fsys.Rename(filepath.Join(r.dir, name), filepath.Join(r.keep, name))
			if errors.Is(err, os.ErrNotExist) && suffix != segment.LogSuffix {
				continue
			}
			if err != nil {
				return err
			}
			r.act("moved %s to %s", name, r.keep)
		}
	}
	if r.report.KeepDir != "" {
		if err := errors.Join(r.fsys.SyncDir(r.keep), r.fsys.SyncDir(r.dir)); err != nil {
			return err
		}
	}
	changed := map[int]bool{}
	for i := range r.cut {
		changed[i] = true
	}
	for i := range r.fillers {
		changed[i] = true
	}
	for _, i := range sortedKeys(changed) {
		s := sv.segments[i]
		size, ok := r.cut[i]
		if !ok {
			size = s.scan.Size
		}
		if err := r.rewriteEnd(i, size); err != nil {
			return err
		}
	}
	if r.fresh {
		s, err := segment.Create(r.fsys, r.dir, r.end, sv.p.segmentOptions(r.end))
		if err != nil {
			return err
		}
		if err := errors.Join(s.Sync(), s.Close()); err != nil {
			return err
		}
		r.act("created an empty segment at offset %d, so that no offset is given out twice", r.end)
	}
	if err := r.fsys.SyncDir(r.dir); err != nil {
		return err
	}
	newest := r.end // the fresh segment
	for i := len(sv.segments) - 1; i >= 0 && !r.fresh; i-- {
		if !r.remove[i] {
			newest = sv.segments[i].base
			break
		}
	}
	if err := r.sv.p.writeCheckpoint(checkpoint{logStartOffset: r.start, recoveryPoint: r.end, newestSegment: newest, manifest: r.manifest(newest)}); err != nil {
		return err
	}
	r.act("checkpoint: log start offset %d, end offset %d", r.start, r.end)
	return nil
}

// untouched returns the entries of the checkpoint's manifest of the segments that
// the repair leaves as they are (neither cut, filled nor moved).
func (r *repair) untouched() []manifestEntry {
	changed := map[int64]bool{}
	for i, s := range r.sv.segments {
		_, cut := r.cut[i]
		_, filled := r.fillers[i]
		if cut || filled || r.remove[i] {
			changed[s.base] = true
		}
	}
	var entries []manifestEntry
	for _, e := range r.sv.cp.manifest {
		if !changed[e.base] {
			entries = append(entries, e)
		}
	}
	return entries
}

// manifest returns the manifest of the repaired log: every segment kept but the
// newest, as the survey read it or as rewriteEnd left it.
func (r *repair) manifest(newest int64) []manifestEntry {
	var entries []manifestEntry
	for i, s := range r.sv.segments {
		if r.remove[i] || s.base >= newest {
			continue
		}
		e, ok := r.rewritten[i]
		if !ok {
			e = manifestEntry{base: s.base, next: s.scan.NextOffset, Fingerprint: s.scan.Fingerprint}
		}
		entries = append(entries, e)
	}
	return entries
}

// rewriteEnd cuts the .log of s at size and appends its empty batch over lost
// offsets, if it has one, fsynced; its indexes are removed, for the next Open to
// rebuild, and the entries of its .txnindex above what it keeps dropped first.
func (r *repair) rewriteEnd(i int, size int64) error {
	if err := r.cutAbortedTxns(i); err != nil {
		return err
	}
	s := r.sv.segments[i]
	name := segment.FileName(s.base, segment.LogSuffix)
	f, err := r.fsys.OpenFile(segment.LogPath(r.dir, s.base), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil && size < s.scan.Size {
		r.act("cut %s at position %d", name, size)
	}
	if filler, ok := r.fillers[i]; ok && err == nil {
		var batch []byte
		batch, err = emptyBatch(s.base, filler)
		if err == nil {
			_, err = f.WriteAt(batch, size)
		}
		if err == nil {
			r.act("wrote an empty batch over offsets %d to %d at the end of %s", filler.From, filler.To-1, name)
		}
	}
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return err
	}
	scan, err := segment.ScanFile(r.fsys, r.dir, s.base, r.sv.p.segmentOptions(s.base))
	if err == nil && scan.Damage != nil {
		err = scan.Damage
	}
	if err != nil {
		return fmt.Errorf("the rewritten %s does not read back: %w", name, err)
	}
	if r.rewritten == nil {
		r.rewritten = map[int]manifestEntry{}
	}
	r.rewritten[i] = manifestEntry{base: s.base, next: scan.NextOffset, Fingerprint: scan.Fingerprint}
	for _, path := range []string{segment.IndexPath(r.dir, s.base), segment.TimeIndexPath(r.dir, s.base)} {
		if err := r.fsys.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// emptyBatch returns a batch without records over the offsets of lost, for the
// segment based at base: what compaction leaves when it removes every record of a
// segment's last batch. It has no timestamp (-1), so that time lookups and retention
// pass over it.
func emptyBatch(base int64, lost OffsetRange) ([]byte, error) {
	if lost.To-1-base > math.MaxInt32 || lost.To-lost.From > math.MaxInt32 {
		return nil, fmt.Errorf("offsets %d to %d do not fit one batch of the segment based at %d", lost.From, lost.To-1, base)
	}
	h := segment.BatchHeader{BaseOffset: lost.From, LastOffsetDelta: int32(lost.To - lost.From - 1),
		BaseTimestamp: -1, MaxTimestamp: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Magic: segment.MagicV2}
	return segment.AppendFilteredBatch(nil, &h, nil, segment.NoDeleteHorizon)
}

func (r *repair) act(format string, args ...any) {
	r.report.Actions = append(r.report.Actions, fmt.Sprintf(format, args...))
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// copyTail copies the bytes of the file at path from position from on into a new
// file at dst, fsynced.
func copyTail(fsys vfs.FS, path, dst string, from int64) error {
	src, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := fsys.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	var written int64
	for {
		n, err := src.ReadAt(buf, from+written)
		if n > 0 {
			if _, werr := out.WriteAt(buf[:n], written); werr != nil {
				out.Close()
				return werr
			}
			written += int64(n)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Close()
			return err
		}
	}
	return errors.Join(out.Sync(), out.Close())
}
