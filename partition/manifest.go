package partition

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// The manifest of a partition's sealed segments, kept in partition.checkpoint (see
// CheckpointFile): for each segment sealed when the checkpoint was written, its base
// offset, end offset, size and fingerprint (segment.Fingerprint: a digest of every
// batch, and one of the first and last). It is what the
// partition wrote, against which Open checks what it finds: a sealed segment file
// replaced by another whose batches are each valid and whose offsets fit (another
// partition's, an old backup's), or a baseOffset changed in a segment compaction
// wrote, where the sequence rules (survey.go) see nothing, is a *CorruptError rather
// than records served at the wrong offsets.
//
// Every writer of the checkpoint writes the manifest of the segments as they are (or,
// in a compaction's swap, as they are about to be), so it is crash-consistent with
// them: a segment rolled after the checkpoint was written (at or above its
// newest-segment) may be missing from it, and the segments a swap that Open finishes
// installs (recoverCompaction) are taken as recovery finds them.

// manifestEntry is one sealed segment of the manifest.
type manifestEntry struct {
	base, next int64
	segment.Fingerprint
}

const manifestKeyPrefix = "segment-"

func (e manifestEntry) key() string { return manifestKeyPrefix + strconv.FormatInt(e.base, 10) }

func (e manifestEntry) value() string {
	digest := "-"
	if e.DigestKnown {
		digest = fmt.Sprintf("%016x", e.Digest)
	}
	return fmt.Sprintf("%d %d %s %016x", e.next, e.Size, digest, e.Edges)
}

// decodeManifest returns the manifest entries among a checkpoint's fields, in order
// of base offset.
func decodeManifest(fields map[string]string) ([]manifestEntry, error) {
	var entries []manifestEntry
	seen := map[int64]bool{}
	for key, value := range fields {
		name, ok := strings.CutPrefix(key, manifestKeyPrefix)
		if !ok {
			continue
		}
		var e manifestEntry
		var err error
		if e.base, err = strconv.ParseInt(name, 10, 64); err != nil || e.base < 0 || seen[e.base] {
			return nil, fmt.Errorf("manifest entry %q", key)
		}
		seen[e.base] = true
		parts := strings.Split(value, " ")
		if len(parts) != 4 {
			return nil, fmt.Errorf("manifest entry %q: %q", key, value)
		}
		var err1, err2, err3, err4 error
		e.next, err1 = strconv.ParseInt(parts[0], 10, 64)
		e.Size, err2 = strconv.ParseInt(parts[1], 10, 64)
		if parts[2] != "-" {
			e.DigestKnown = true
			e.Digest, err3 = strconv.ParseUint(parts[2], 16, 64)
		}
		e.Edges, err4 = strconv.ParseUint(parts[3], 16, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || e.next < e.base || e.Size < 0 {
			return nil, fmt.Errorf("manifest entry %q: %q", key, value)
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b manifestEntry) int { return cmp.Compare(a.base, b.base) })
	return entries, nil
}

// manifestOf returns the manifest entries of segments, all of them sealed.
func manifestOf(segments []*segment.Segment) []manifestEntry {
	entries := make([]manifestEntry, len(segments))
	for i, s := range segments {
		entries[i] = manifestEntry{base: s.Base(), next: s.NextOffset(), Fingerprint: s.Fingerprint()}
	}
	return entries
}

// sealedOf returns the manifest of a partition's segments: every one but the newest,
// the active segment.
func sealedOf(segments []*segment.Segment) []manifestEntry {
	if len(segments) == 0 {
		return nil
	}
	return manifestOf(segments[:len(segments)-1])
}

// manifestFaults checks spans (in order of base offset, with their digests where
// known) against cp's manifest: a segment listed with another end, size or digest,
// or a segment sealed before the checkpoint was written that it does not list, was
// not written here. Segments whose base lies in one of exempt (installed by a swap
// that recovery finished) are not checked, nor damaged ones (their damage is
// reported), nor those wholly below the log start offset (about to be removed).
func manifestFaults(dir string, spans []span, cp checkpoint, exempt []OffsetRange) []fault {
	if !cp.hasManifest {
		return nil
	}
	entries := make(map[int64]manifestEntry, len(cp.manifest))
	for _, e := range cp.manifest {
		entries[e.base] = e
	}
	var faults []fault
	for i, s := range spans {
		if s.damaged || s.next <= cp.logStartOffset || inRanges(exempt, s.base) {
			continue
		}
		path := segment.LogPath(dir, s.base)
		e, listed := entries[s.base]
		switch {
		case !listed && s.base < cp.newestSegment:
			faults = append(faults, fault{at: i, from: s.base, to: s.next,
				err: errs.Corruptf(path, 0, "a sealed segment (offsets %d to %d) that the checkpoint's manifest does not list: not the segment written here", s.base, s.next-1)})
		case !listed:
		case s.next < e.next && s.Size < e.Size:
			// Cut short: a gap before the next segment or a log ending below
			// the recovery point, reported by the sequence checks, which a repair
			// covers; what is left may well be the segment written here.
		case e.next != s.next || e.Size != s.Size:
			faults = append(faults, fault{at: i, from: s.base, to: max(s.next, e.next),
				err: errs.Corruptf(path, 0, "the segment ends at offset %d after %d bytes, but it was sealed ending at offset %d after %d bytes: the file was replaced or changed",
					s.next, s.Size, e.next, e.Size)})
		case e.Edges != s.Edges || e.DigestKnown && s.DigestKnown && e.Digest != s.Digest:
			faults = append(faults, fault{at: i, from: s.base, to: s.next,
				err: errs.Corruptf(path, 0, "the segment's batches differ from those sealed in it (fingerprint %016x/%016x, recorded %016x/%016x): the file was replaced, or a byte outside the batches' CRCs changed",
					s.Digest, s.Edges, e.Digest, e.Edges)})
		}
	}
	return faults
}

// raisingMark returns o.RecoveryPointSegment if o.RecoveryPoint raises cp's recovery
// point, else nil. A checkpoint already at or above the store's point was written
// after the store sampled it (an Open after a crash, a Repair: each may have changed
// the newest segment's first batch), so the mark no longer describes the log.
func raisingMark(cp checkpoint, o *Options) *SegmentMark {
	if o.RecoveryPoint > cp.recoveryPoint {
		return o.RecoveryPointSegment
	}
	return nil
}

// newestMarkFault checks the newest segment against cp.newestMark, the segment the
// store recorded with the recovery point that raised cp's (Options.RecoveryPointSegment):
// the same base must begin with the same batch. The manifest lists only sealed
// segments; this is what ties the newest one, after a crash, to what was fsynced in
// it. An empty newest segment is left to the tail check (the log ends below the
// recovery point).
func newestMarkFault(dir string, spans []span, cp checkpoint) (fault, bool) {
	m := cp.newestMark
	if m == nil || len(spans) == 0 || cp.recoveryPoint <= m.Base {
		return fault{}, false
	}
	i := len(spans) - 1
	last := spans[i]
	if last.base != m.Base || !last.hasFirst || last.first == m.FirstTerm {
		return fault{}, false
	}
	return fault{at: i, from: last.base, to: max(last.next, cp.recoveryPoint),
		err: errs.Corruptf(segment.LogPath(dir, last.base), 0,
			"the newest segment does not begin with the batch fsynced there (the store's recovery points record another): the file was replaced")}, true
}

// inRanges reports whether offset lies in one of ranges.
func inRanges(ranges []OffsetRange, offset int64) bool {
	for _, r := range ranges {
		if offset >= r.From && offset < r.To {
			return true
		}
	}
	return false
}

// adoptDigests gives each segment that does not know its digest the one its
// manifest entry records (after checkSequence found end and size as recorded), so
// that the next checkpoint keeps it and Verify checks it.
func adoptDigests(segments []*segment.Segment, cp checkpoint) {
	i := 0 // both are in order of base offset
	for _, e := range cp.manifest {
		for i < len(segments) && segments[i].Base() < e.base {
			i++
		}
		if i == len(segments) {
			return
		}
		if s := segments[i]; s.Base() == e.base && e.DigestKnown {
			if f := s.Fingerprint(); f.Size == e.Size && f.Edges == e.Edges && s.NextOffset() == e.next {
				s.SetDigest(e.Digest)
			}
		}
	}
}
