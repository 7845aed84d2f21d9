package partition

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// CheckpointFile is the name of the file in a partition directory that records the
// log start offset, the recovery point and whether the partition was closed cleanly.
// Format (text, one "key value" per line, the last line a CRC-32C of the bytes before
// it, in hex):
//
//	strata-partition-checkpoint 2
//	log-start-offset 250
//	recovery-point 368769
//	newest-segment 368769
//	clean-shutdown false
//	crc32c 8da559b1
//
// newest-segment is the base offset of the newest segment when the file was
// written: after a crash, the recovery point says nothing of that segment's records
// (it moves at each roll), so its very existence is what Open can check. Version 1
// files (no newest-segment) still open, unchecked. It is replaced crash-atomically
// (temp file, fsync, rename, fsync directory).
const CheckpointFile = "partition.checkpoint"

const checkpointVersion = 2

// checkpoint is the content of CheckpointFile.
type checkpoint struct {
	logStartOffset int64 // lowest offset readers may see
	recoveryPoint  int64 // every offset below it was fsynced
	newestSegment  int64 // base of the newest segment; -1: unknown (version 1)
	cleanShutdown  bool  // Close flushed everything and wrote this last
}

func (c checkpoint) encode() []byte {
	return encodeKeyValues("strata-partition-checkpoint", checkpointVersion,
		"log-start-offset", strconv.FormatInt(c.logStartOffset, 10),
		"recovery-point", strconv.FormatInt(c.recoveryPoint, 10),
		"newest-segment", strconv.FormatInt(c.newestSegment, 10),
		"clean-shutdown", strconv.FormatBool(c.cleanShutdown))
}

func decodeCheckpoint(path string, data []byte) (checkpoint, error) {
	fields, version, err := decodeKeyValues(path, "strata-partition-checkpoint", 1, checkpointVersion, data)
	if err != nil {
		return checkpoint{}, err
	}
	c := checkpoint{newestSegment: -1}
	var err1, err2, err3, err4 error
	c.logStartOffset, err1 = strconv.ParseInt(fields["log-start-offset"], 10, 64)
	c.recoveryPoint, err2 = strconv.ParseInt(fields["recovery-point"], 10, 64)
	c.cleanShutdown, err3 = strconv.ParseBool(fields["clean-shutdown"])
	if version >= 2 {
		c.newestSegment, err4 = strconv.ParseInt(fields["newest-segment"], 10, 64)
	}
	if err := errors.Join(err1, err2, err3, err4); err != nil || c.logStartOffset < 0 || c.recoveryPoint < 0 || c.newestSegment < -1 {
		return checkpoint{}, errs.Corruptf(path, 0, "checkpoint: bad field")
	}
	return c, nil
}

// readCheckpoint reads the checkpoint in dir; found is false if there is none.
func readCheckpoint(fsys vfs.FS, dir string) (c checkpoint, found bool, err error) {
	path := filepath.Join(dir, CheckpointFile)
	data, err := readSmallFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return checkpoint{}, false, nil
	}
	if err != nil {
		return checkpoint{}, false, err
	}
	c, err = decodeCheckpoint(path, data)
	return c, err == nil, err
}

func writeCheckpoint(fsys vfs.FS, dir string, c checkpoint) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, CheckpointFile), c.encode())
}

// markDirtyLocked makes the checkpoint on disk say "not a clean shutdown" before the
// first change after an Open that found a clean one (see Partition.clean): a crash
// after the change must make the next Open verify. The caller holds appendMu.
func (p *Partition) markDirtyLocked() error {
	if !p.clean {
		return nil
	}
	p.mu.RLock()
	start, err := p.mu.start, p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := writeCheckpoint(p.fsys, p.dir, checkpoint{logStartOffset: start, recoveryPoint: p.recoveryPoint, newestSegment: p.newestBase.Load()}); err != nil {
		return p.fail(err)
	}
	p.clean = false
	return nil
}
