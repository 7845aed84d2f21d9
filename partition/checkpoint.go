package partition

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// CheckpointFile is the name of the file in a partition directory that records the
// log start offset, the recovery point, whether the partition was closed cleanly,
// and the manifest of its sealed segments. Format (text, one "key value" per line,
// the last line a CRC-32C of the bytes before it, in hex):
//
//	strata-partition-checkpoint 3
//	log-start-offset 250
//	recovery-point 368769
//	newest-segment 368769
//	clean-shutdown false
//	segment-250 368769 1048371 2c5e0a4b7d1f9e36 9b03e1f27a6c5d48
//	crc32c cd715086
//
// newest-segment is the base offset of the newest segment when the file was
// written: after a crash, the recovery point says nothing of that segment's records
// (it moves at each roll), so its very existence is what Open can check.
//
// Each segment-<base> line (version 3) is the manifest entry of a segment that was
// sealed when the file was written (after a clean shutdown, the newest one too): its
// end offset, its size in bytes, its digest ("-" when it was not known) and its
// edges (segment.Fingerprint; 16 hex digits each). Open checks every segment it finds
// against its entry (end, size and edges always, the digest whenever it reads the
// whole segment); Verify and Scrub check every digest. See manifest.go.
//
// Versions 1 (no newest-segment) and 2 (no manifest) still open, unchecked. It is
// replaced crash-atomically (temp file, fsync, rename, fsync directory).
const CheckpointFile = "partition.checkpoint"

const checkpointVersion = 3

// maxCheckpointBytes bounds what Open reads of partition.checkpoint: its manifest
// has a line of some 70 bytes per sealed segment, so this allows about a million
// segments, and refuses a damaged file claiming gigabytes.
const maxCheckpointBytes = 64 << 20

// checkpoint is the content of CheckpointFile.
type checkpoint struct {
	logStartOffset int64 // lowest offset readers may see
	recoveryPoint  int64 // every offset below it was fsynced
	newestSegment  int64 // base of the newest segment; -1: unknown (version 1)
	cleanShutdown  bool  // Close flushed everything and wrote this last
	// manifest lists the sealed segments, in order (version 3; see manifest.go).
	// hasManifest is false for older versions, whose segments are not checked.
	manifest    []manifestEntry
	hasManifest bool
	// maxBatchBytes is the largest batch the partition may hold: the greatest
	// MaxBatchBytes it was opened with since this field exists (0: not recorded,
	// an older file). See Partition.storedMax.
	maxBatchBytes int
	// newestMark is not in the file: Options.RecoveryPointSegment, when its
	// recovery point raised this one's after an unclean shutdown (newestMarkFault).
	newestMark *SegmentMark
}

func (c checkpoint) encode() []byte {
	fields := []string{
		"log-start-offset", strconv.FormatInt(c.logStartOffset, 10),
		"recovery-point", strconv.FormatInt(c.recoveryPoint, 10),
		"newest-segment", strconv.FormatInt(c.newestSegment, 10),
		"clean-shutdown", strconv.FormatBool(c.cleanShutdown),
	}
	if c.maxBatchBytes > 0 {
		fields = append(fields, "max-batch-bytes", strconv.Itoa(c.maxBatchBytes))
	}
	for _, e := range c.manifest {
		fields = append(fields, e.key(), e.value())
	}
	return keyvalue.Encode("strata-partition-checkpoint", checkpointVersion, fields...)
}

func decodeCheckpoint(path string, data []byte) (checkpoint, error) {
	fields, version, err := keyvalue.Decode(path, "strata-partition-checkpoint", 1, checkpointVersion, data)
	if err != nil {
		return checkpoint{}, err
	}
	c := checkpoint{newestSegment: -1}
	var err1, err2, err3, err4, err5 error
	c.logStartOffset, err1 = strconv.ParseInt(fields["log-start-offset"], 10, 64)
	c.recoveryPoint, err2 = strconv.ParseInt(fields["recovery-point"], 10, 64)
	c.cleanShutdown, err3 = strconv.ParseBool(fields["clean-shutdown"])
	if version >= 2 {
		c.newestSegment, err4 = strconv.ParseInt(fields["newest-segment"], 10, 64)
	}
	if version >= 3 {
		c.hasManifest = true
		c.manifest, err5 = decodeManifest(fields)
	}
	var err6 error
	if v, ok := fields["max-batch-bytes"]; ok {
		var n int64
		n, err6 = strconv.ParseInt(v, 10, 32)
		if err6 == nil && (n < segment.BatchHeaderSize || n > segment.MaxSegmentBytes) {
			err6 = errors.New("max-batch-bytes out of range")
		}
		c.maxBatchBytes = int(n)
	}
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil || c.logStartOffset < 0 || c.recoveryPoint < 0 || c.newestSegment < -1 {
		return checkpoint{}, errs.Corruptf(path, 0, "checkpoint: bad field")
	}
	return c, nil
}

// readCheckpoint reads the checkpoint in dir; found is false if there is none.
func readCheckpoint(fsys vfs.FS, dir string) (c checkpoint, found bool, err error) {
	path := filepath.Join(dir, CheckpointFile)
	data, err := keyvalue.ReadFile(fsys, path, maxCheckpointBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return checkpoint{}, false, nil
	}
	if err != nil {
		return checkpoint{}, false, err
	}
	c, err = decodeCheckpoint(path, data)
	return c, err == nil, err
}

// openCheckpoint returns the checkpoint of the open partition (not a clean
// shutdown) with the log start offset start, recoveryPoint, and the manifest of
// segments (the active one last, not listed).
func (p *Partition) openCheckpoint(start, recoveryPoint int64, segments []*segment.Segment) checkpoint {
	return checkpoint{logStartOffset: start, recoveryPoint: recoveryPoint, newestSegment: p.newestBase.Load(), manifest: sealedOf(segments)}
}

// writeCheckpoint replaces the checkpoint of p's directory with c, recording the
// largest batch p may hold (storedMax).
func (p *Partition) writeCheckpoint(c checkpoint) error {
	c.maxBatchBytes = max(c.maxBatchBytes, p.storedMax)
	return vfs.WriteFileAtomic(p.fsys, filepath.Join(p.dir, CheckpointFile), c.encode())
}

// storedMaxOf returns the largest batch a partition opened with o may find in its
// segments, given its checkpoint cp (found: there is one): the greater of
// o.MaxBatchBytes and the largest recorded, and never below
// segment.DefaultMaxBatchBytes: a checkpoint from before the record may hold
// batches of the default maximum, and a new replica copies batches its leader
// stored under the default (a follower's copies are not bounded by the limit on
// appends, as in Kafka). So lowering MaxBatchBytes, as Kafka's max.message.bytes,
// bounds the batches written from then on and leaves the ones stored readable.
func storedMaxOf(o *Options, cp checkpoint, _ bool) int {
	return max(o.MaxBatchBytes, cp.maxBatchBytes, segment.DefaultMaxBatchBytes)
}

// setStoredMax makes n the largest batch p reads, recovers or copies: the bound
// believed on disk. It is set once, before p reads a segment.
func (p *Partition) setStoredMax(n int) {
	p.storedMax = n
	p.segOpts.MaxBatchBytes, p.denseOpts.MaxBatchBytes = n, n
}

// markDirtyLocked makes the checkpoint on disk say "not a clean shutdown" before the
// first change after an Open that found a clean one (see Partition.clean): a crash
// after the change must make the next Open verify. The caller holds appendMu.
func (p *Partition) markDirtyLocked() error {
	if !p.clean {
		return nil
	}
	p.mu.RLock()
	start, segments, err := p.mu.start, p.mu.segments, p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := p.writeCheckpoint(p.openCheckpoint(start, p.recoveryPoint, segments)); err != nil {
		return p.fail(err)
	}
	p.clean = false
	return nil
}
