package partition

import (
	"cmp"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// The swap of cleaned segments, Kafka's protocol. Each cleaned segment was written as
// <base>.log.cleaned (+ .index.cleaned, .timeindex.cleaned) and fsynced; it spans
// exactly the offsets of the segments it replaces, [base, next). Then:
//
//  1. group by group, in offset order: rename *.cleaned to *.swap (indexes first),
//     fsync the directory. That fsync is the group's commit point, from which recovery
//     finishes its swap instead of undoing it. A crash or failure in this step leaves
//     the first groups swapped and the others not: a partly compacted log, which is a
//     valid one (a removed record is superseded by a later one, which no swap removes
//     without also swapping every earlier group), and the cleaner point has not
//     moved, so the next compaction redoes the rest;
//  2. delete the files of the replaced segments (.log first), fsync the directory;
//  3. rename *.swap to the final names (indexes first), fsync the directory;
//  4. swap the segments in memory (mu), close the old ones; then checkpoint the new
//     cleaner point.
//
// Readers never notice: until step 4 they read the old segments through their open
// files (and mappings), whose names are gone but whose bytes stay, as POSIX keeps an
// unlinked file alive while it is open; after step 4 they find the new ones.
//
// Open (recoverCompaction) deletes *.cleaned files: a swap that never reached its
// commit point is undone. For each <base>.log.swap it reads the swap's last offset,
// deletes every segment whose base offset lies in [base, next), deletes every index
// file of base (the cleaned indexes are rebuilt from the .log: whichever index files
// survived, they may belong to the old segment), renames a .txnindex.swap into
// place (the aborted-transaction index is not rebuilt from the .log), makes the
// checkpoint's manifest list the swap (manifestSwaps), and renames the .log.swap
// into place.
// Stray index .swap files are deleted.

// install swaps the cleaned segments in, holding appendMu. A group whose old
// segments retention removed meanwhile is skipped (and the cleaner point stays where
// it was); a truncation since the compaction began cancels it all. Any failure from
// the commit point on makes the partition fail closed: Open finishes the swap.
func (p *Partition) install(c *cleaning) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.mu.RLock()
	err := p.usableLocked()
	current := p.mu.segments
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := p.markDirtyLocked(); err != nil {
		return err
	}
	if p.cleaner.truncations.Load() != c.plan.truncations {
		return errCompactionRaced
	}
	var groups []*cleanGroup
	for _, g := range c.groups {
		i := slices.Index(current, g.old[0])
		if i < 0 || i+len(g.old) > len(current)-1 || !slices.Equal(current[i:i+len(g.old)], g.old) {
			c.skipped = true // retention deleted (some of) them
			continue
		}
		if g.out != nil {
			groups = append(groups, g)
		}
	}
	if len(groups) > 0 {
		// The cleaned segments have gaps: the checkpoint says so before any of them
		// takes an old segment's name.
		gaps := p.cleaner.gapsBelow.Load()
		for _, g := range groups {
			gaps = max(gaps, g.out.Base()+1)
		}
		if gaps > p.cleaner.gapsBelow.Load() {
			if err := p.storeCleanerCheckpoint(cleanerCheckpoint{point: p.cleaner.point.Load(), gapsBelow: gaps}); err != nil {
				return p.fail(err)
			}
		}
		if err := p.swapFiles(groups); err != nil {
			return err
		}
		p.swapSegments(groups)
	}
	if c.skipped || c.newPoint <= p.cleaner.point.Load() {
		return nil
	}
	if err := p.storeCleanerCheckpoint(cleanerCheckpoint{point: c.newPoint, gapsBelow: p.cleaner.gapsBelow.Load()}); err != nil {
		return p.fail(err)
	}
	return nil
}

// swapFiles runs steps 1 to 3 on disk. On failure it closes the cleaned segments
// (their files are now recovery's to finish) and fails the partition closed.
func (p *Partition) swapFiles(groups []*cleanGroup) error {
	failed := func(err error) error {
		for _, g := range groups {
			g.out.Close()
			g.out = nil
		}
		return p.fail(err)
	}
	for _, g := range groups {
		if err := g.out.RenameFiles(segment.SwapSuffix); err != nil {
			return failed(err)
		}
		if err := p.fsys.SyncDir(p.dir); err != nil {
			return failed(err)
		}
	}
	// Every swap is committed: the manifest lists the cleaned segments before any
	// takes an old one's name (a crash before this leaves .swap files, whose
	// segments Open takes as recovery finds them).
	p.mu.RLock()
	start, future := p.mu.start, swapped(p.mu.segments, groups)
	p.mu.RUnlock()
	if err := p.writeCheckpoint(p.openCheckpoint(start, p.recoveryPoint, future)); err != nil {
		return failed(err)
	}
	for _, g := range groups {
		for _, s := range g.old {
			if err := s.CloseIndexes(); err != nil { // before their names go to the cleaned segment
				return failed(err)
			}
			if err := p.removeSegmentFiles(s.Base()); err != nil {
				return failed(err)
			}
		}
	}
	if err := p.fsys.SyncDir(p.dir); err != nil {
		return failed(err)
	}
	for _, g := range groups {
		if err := g.out.RenameFiles(""); err != nil {
			return failed(err)
		}
	}
	if err := p.fsys.SyncDir(p.dir); err != nil {
		return failed(err)
	}
	return nil
}

// swapSegments runs step 4: the cleaned segments take the place of the old ones for
// readers, and the old ones are closed.
func (p *Partition) swapSegments(groups []*cleanGroup) {
	for _, g := range groups {
		p.mapSealed(g.out)
		g.installed = true
	}
	p.mu.Lock()
	for _, g := range groups {
		if slices.Contains(g.old, p.mu.committed.seg) {
			// The committed mark names a sealed segment only at its end.
			p.mu.committed = mark{offset: p.mu.committed.offset, seg: g.out, pos: g.out.Size()}
		}
		if slices.Contains(g.old, p.mu.acked.seg) {
			p.mu.acked = mark{offset: p.mu.acked.offset, seg: g.out, pos: g.out.Size()}
		}
	}
	p.mu.segments = swapped(p.mu.segments, groups)
	p.mu.Unlock()
	for _, g := range groups {
		for _, s := range g.old {
			if err := s.Close(); err != nil {
				p.logger.Warn("closing a segment replaced by compaction", "file", s.Path(), "err", err)
			}
		}
	}
}

// swapped returns segments with each group's old segments replaced by its cleaned
// one.
func swapped(segments []*segment.Segment, groups []*cleanGroup) []*segment.Segment {
	out := make([]*segment.Segment, 0, len(segments))
	for i := 0; i < len(segments); {
		s := segments[i]
		replaced := false
		for _, g := range groups {
			if s == g.old[0] {
				out = append(out, g.out)
				i += len(g.old)
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, s)
			i++
		}
	}
	return out
}

// removeSegmentFiles deletes the files of the segment at base, the .log first (a
// crash in between leaves orphan indexes, which Open deletes). Missing files are not
// an error.
func (p *Partition) removeSegmentFiles(base int64) error {
	for _, path := range []string{segment.LogPath(p.dir, base), segment.IndexPath(p.dir, base), segment.TimeIndexPath(p.dir, base), segment.TxnIndexPath(p.dir, base)} {
		if err := p.fsys.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// recoverCompaction finishes or undoes, at Open, a swap that a crash interrupted (see
// the protocol above), before the directory's segments are listed.
func (p *Partition) recoverCompaction() error {
	names, err := p.fsys.ReadDir(p.dir)
	if err != nil {
		return err
	}
	var logs, swaps []int64
	hasSwap := map[int64]bool{}
	for _, name := range names {
		if base, suffix, ok := segment.ParseFileName(name); ok {
			switch suffix {
			case segment.LogSuffix:
				logs = append(logs, base)
			case segment.LogSuffix + segment.SwapSuffix:
				swaps = append(swaps, base)
				hasSwap[base] = true
			}
		}
	}
	changed := false
	remove := func(name string) error {
		err := p.fsys.Remove(filepath.Join(p.dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil {
			p.report.RemovedFiles = append(p.report.RemovedFiles, name)
			changed = true
		}
		return err
	}
	for _, name := range names {
		base, suffix, ok := segment.ParseFileName(name)
		if !ok {
			continue
		}
		strayIndex := (suffix == segment.IndexSuffix+segment.SwapSuffix || suffix == segment.TimeIndexSuffix+segment.SwapSuffix ||
			suffix == segment.TxnIndexSuffix+segment.SwapSuffix) && !hasSwap[base]
		if strings.HasSuffix(suffix, segment.CleanedSuffix) || strayIndex {
			if err := remove(name); err != nil {
				return err
			}
		}
	}
	installed := make([]manifestEntry, 0, len(swaps))
	for _, base := range swaps {
		swap := segment.LogPath(p.dir, base) + segment.SwapSuffix
		next, fingerprint, err := segment.ReadFingerprint(p.fsys, swap, base, p.segOpts)
		if err != nil {
			return err
		}
		installed = append(installed, manifestEntry{base: base, next: next, Fingerprint: fingerprint})
		// A real swap replaces whole segments: it ends exactly where the segment
		// after them begins (compaction keeps each segment's last batch, and never
		// cleans the active segment), which is still there, or the next group's
		// swap. It is never empty (it holds at least the last batch). Anything else
		// is not compaction's output, and renaming it over a segment would lose
		// records.
		if next <= base || !slices.Contains(logs, next) && !hasSwap[next] {
			return errs.Corruptf(swap, 0, "a compaction's output ending at offset %d, where no segment begins: not strata's, left alone", next)
		}
		p.logger.Warn("finishing an interrupted compaction", "file", swap, "replaces-offsets-below", next)
		p.finishedSwaps = append(p.finishedSwaps, OffsetRange{From: base, To: next})
		for _, old := range logs {
			if old >= base && old < max(next, base+1) {
				for _, suffix := range []string{segment.LogSuffix, segment.IndexSuffix, segment.TimeIndexSuffix} {
					if err := remove(segment.FileName(old, suffix)); err != nil {
						return err
					}
				}
				if old != base {
					if err := remove(segment.FileName(old, segment.TxnIndexSuffix)); err != nil {
						return err
					}
				}
			}
		}
		// The aborted-transaction index cannot be rebuilt from the cleaned .log
		// alone: the cleaned one takes its final name. Without a .swap it has it
		// already (or there is none, and an index of base left by step 2 is of an
		// old segment, whose entries the cleaned segment's included).
		if err := p.installSwappedTxnIndex(base); err != nil {
			return err
		}
		for _, suffix := range []string{segment.IndexSuffix, segment.TimeIndexSuffix, segment.IndexSuffix + segment.SwapSuffix, segment.TimeIndexSuffix + segment.SwapSuffix} {
			if err := remove(segment.FileName(base, suffix)); err != nil {
				return err
			}
		}
	}
	if changed {
		if err := p.fsys.SyncDir(p.dir); err != nil {
			return err
		}
	}
	if len(swaps) == 0 {
		return nil
	}
	if err := p.manifestSwaps(installed); err != nil {
		return err
	}
	for _, base := range swaps {
		if err := p.fsys.Rename(segment.LogPath(p.dir, base)+segment.SwapSuffix, segment.LogPath(p.dir, base)); err != nil {
			return err
		}
	}
	return p.fsys.SyncDir(p.dir)
}

// manifestSwaps makes the manifest of partition.checkpoint list the segments that
// finishing a swap installs (installed, in order of base offset) in place of those
// they replace, before any .swap file takes its final name. Once renamed, nothing
// tells a cleaned segment from one that replaced a sealed segment: if the Open (or
// Repair) that finishes the swap failed or crashed before writing a checkpoint of
// its own, the next one would check the cleaned segments against the entries of
// the segments they replaced. A checkpoint without a manifest (an older version),
// or one that does not read (Open refuses it first; Repair rewrites it), is left
// alone.
func (p *Partition) manifestSwaps(installed []manifestEntry) error {
	cp, found, err := readCheckpoint(p.fsys, p.dir)
	if err != nil || !found || !cp.hasManifest {
		return nil
	}
	ranges := make([]OffsetRange, len(installed))
	for i, e := range installed {
		ranges[i] = OffsetRange{From: e.base, To: max(e.next, e.base+1)}
	}
	manifest := slices.DeleteFunc(slices.Clone(cp.manifest), func(e manifestEntry) bool { return inRanges(ranges, e.base) })
	manifest = append(manifest, installed...)
	slices.SortFunc(manifest, func(a, b manifestEntry) int { return cmp.Compare(a.base, b.base) })
	if slices.Equal(manifest, cp.manifest) {
		return nil // the swap's commit point wrote it
	}
	cp.manifest = manifest
	return p.writeCheckpoint(cp)
}

// installSwappedTxnIndex renames the .txnindex.swap of base, if any, to its final
// name, replacing the old segment's.
func (p *Partition) installSwappedTxnIndex(base int64) error {
	swap := segment.TxnIndexPath(p.dir, base) + segment.SwapSuffix
	if _, err := p.fsys.Stat(swap); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return p.fsys.Rename(swap, segment.TxnIndexPath(p.dir, base))
}
