package partition

import (
	"fmt"
	"path/filepath"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// What a partition directory must look like, whether Open checks it on a live
// partition (checkSequence) or Scrub and Repair check it on one that is not open:
// the segments, in order of base offset, each ending exactly where the next one
// begins (a segment rolls at its end offset; compaction keeps each segment's last
// batch, emptied if need be, and Repair covers the offsets it gives up with an empty
// batch, so even a compacted log has no gap between segments); the first holding the
// log start offset; the last reaching the recovery point and, after a clean
// shutdown, ending exactly there.

// span is what the sequence checks need of a segment: where its offsets begin and
// end.
type span struct {
	base, next int64
	damaged    bool   // invalid bytes follow the valid batches (reported on their own)
	first      uint64 // the first batch's term, if hasFirst
	hasFirst   bool
	// Fingerprint is that of the valid batches; its Size is their bytes.
	segment.Fingerprint
}

// A fault is a problem with a partition's sequence of offsets: something strata
// wrote and cannot find, or something it never wrote.
type fault struct {
	at       int   // index of the span it concerns (the one after a gap)
	from, to int64 // the offsets missing or in doubt: [from, to)
	err      error // a *CorruptError saying so
}

// kind of a fault, for Repair.
const (
	faultOverlap       = iota // the span at begins below the end of the one before
	faultGap                  // offsets are missing between two spans
	faultHead                 // offsets are missing between the log start offset and the first span
	faultTail                 // the log ends below the recovery point
	faultStrayTail            // after a clean shutdown, the log ends above where it was closed
	faultNoCheckpoint         // the segments hold records but partition.checkpoint is missing
	faultNewestMissing        // the newest segment the checkpoint names is gone
	faultManifest             // a segment differs from its manifest entry, or is not listed (manifest.go)
)

// sequenceFaults returns every problem of spans (in order of base offset) against
// the checkpoint cp (if found) and its manifest, by kind, in the order of the log.
// Segments based in exempt are not checked against the manifest.
func sequenceFaults(dir string, spans []span, cp checkpoint, found bool, exempt []OffsetRange) map[int][]fault {
	faults := map[int][]fault{}
	if found {
		if f := manifestFaults(dir, spans, cp, exempt); len(f) > 0 {
			faults[faultManifest] = f
		}
		if f, ok := newestMarkFault(dir, spans, cp); ok {
			faults[faultManifest] = append(faults[faultManifest], f)
		}
	}
	logPath := func(i int) string { return segment.LogPath(dir, spans[i].base) }
	for i := 1; i < len(spans); i++ {
		prev, s := spans[i-1], spans[i]
		switch {
		case prev.next > s.base:
			faults[faultOverlap] = append(faults[faultOverlap], fault{at: i, from: s.base, to: prev.next,
				err: errs.Corruptf(segment.LogPath(dir, prev.base), prev.Size,
					"segment ends at offset %d, above the next segment's base %d", prev.next, s.base)})
		case prev.next != s.base && !prev.damaged:
			faults[faultGap] = append(faults[faultGap], fault{at: i, from: prev.next, to: s.base,
				err: errs.Corruptf(logPath(i), 0,
					"offsets %d to %d are missing: the segment before this one ends at %d (a segment file removed or cut short, or a stray file)",
					prev.next, s.base-1, prev.next)})
		}
	}
	if !found {
		// Open writes the checkpoint before the first record, and it is only ever
		// replaced: records without it mean it was lost.
		for i, s := range spans {
			if s.next > s.base {
				faults[faultNoCheckpoint] = append(faults[faultNoCheckpoint], fault{at: i, from: s.base, to: s.base,
					err: errs.Corruptf(filepath.Join(dir, CheckpointFile), 0, "missing, but the segments hold records (the log start offset and recovery point are lost)")})
				break
			}
		}
		return faults
	}
	if len(spans) == 0 {
		return faults
	}
	first, last := spans[0], spans[len(spans)-1]
	if cp.logStartOffset < first.base {
		faults[faultHead] = append(faults[faultHead], fault{at: 0, from: cp.logStartOffset, to: first.base,
			err: errs.Corruptf(logPath(0), 0,
				"offsets %d to %d are missing: the log start offset is %d, the first segment begins at %d (a segment file removed)",
				cp.logStartOffset, first.base-1, cp.logStartOffset, first.base)})
	}
	if last.next < cp.recoveryPoint && cp.recoveryPoint > cp.logStartOffset {
		faults[faultTail] = append(faults[faultTail], fault{at: len(spans) - 1, from: last.next, to: cp.recoveryPoint,
			err: errs.Corruptf(logPath(len(spans)-1), last.Size,
				"the log ends at offset %d, but every offset below %d was fsynced: records are missing (a segment file removed or cut short)",
				last.next, cp.recoveryPoint)})
	}
	if cp.newestSegment > last.base {
		// Its records, above the recovery point after a crash, are unknown: not
		// even how far they reached.
		faults[faultNewestMissing] = append(faults[faultNewestMissing], fault{at: len(spans) - 1, from: max(last.next, cp.newestSegment), to: max(last.next, cp.newestSegment),
			err: errs.Corruptf(segment.LogPath(dir, cp.newestSegment), 0,
				"missing: the checkpoint names it as the newest segment (the records it held, and how far they reached, are lost)")})
	}
	if cp.cleanShutdown && last.next > cp.recoveryPoint {
		faults[faultStrayTail] = append(faults[faultStrayTail], fault{at: len(spans) - 1, from: cp.recoveryPoint, to: last.next,
			err: errs.Corruptf(logPath(len(spans)-1), last.Size,
				"the log ends at offset %d, but it was closed cleanly at offset %d: the directory holds records strata did not write there (a stray segment file)",
				last.next, cp.recoveryPoint)})
	}
	return faults
}

// firstFault returns the error of the first fault of faults in the order of the
// log, or nil.
func firstFault(faults map[int][]fault) error {
	var first *fault
	for kind := faultOverlap; kind <= faultManifest; kind++ {
		for i := range faults[kind] {
			f := &faults[kind][i]
			if first == nil || f.from < first.from {
				first = f
			}
		}
	}
	if first == nil {
		return nil
	}
	return first.err
}

// OffsetRange is a range of offsets: From (inclusive) to To (exclusive).
type OffsetRange struct {
	From, To int64
}

// String returns the range as "from-to" (inclusive bounds), as a person reads it.
func (r OffsetRange) String() string { return fmt.Sprintf("%d-%d", r.From, r.To-1) }
