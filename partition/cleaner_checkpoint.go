package partition

import (
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/vfs"
)

// CleanerCheckpointFile is the name of the file in a partition directory that records
// where compaction has been. A partition that never compacted has none. Format (text,
// one "key value" per line, the last line a CRC-32C of the bytes before it, in hex):
//
//	strata-cleaner-checkpoint 2
//	cleaner-point 368769
//	gaps-below 368769
//	crc32c c1eb68c9
//
// The fields:
//
//   - cleaner-point: every offset below it has been compacted (Kafka keeps the same
//     number in its cleaner-offset-checkpoint). Compaction raises it after each swap;
//     TruncateTo lowers it.
//   - gaps-below: a segment whose base offset is at or above it was never written by
//     compaction, so it is dense: its batches follow each other without gaps (see
//     segment.Options.Dense), which readers and recovery check. Compaction raises it
//     before it swaps cleaned segments in, so that a crash in the swap never leaves a
//     segment with gaps above it.
//
// Version 1 files (written before gaps-below existed) have no gaps-below: every
// segment that exists when they are read is taken to possibly have gaps. The file is
// replaced crash-atomically (temp file, fsync, rename, fsync directory). The cleaner
// point is only a hint of where dirty bytes begin: a missing file means 0 (with every
// existing segment of a compacted partition possibly holding gaps: see
// readCleanerState), and a file that fails its CRC means 0 with gaps anywhere, which
// is always safe.
const CleanerCheckpointFile = "cleaner.checkpoint"

const cleanerCheckpointVersion = 2

// cleanerCheckpoint is the content of CleanerCheckpointFile.
type cleanerCheckpoint struct {
	point     int64 // the cleaner point
	gapsBelow int64 // segments based at or above it are dense; math.MaxInt64: unknown
}

func (c cleanerCheckpoint) encode() []byte {
	return keyvalue.Encode("strata-cleaner-checkpoint", cleanerCheckpointVersion,
		"cleaner-point", strconv.FormatInt(c.point, 10),
		"gaps-below", strconv.FormatInt(c.gapsBelow, 10))
}

func decodeCleanerCheckpoint(path string, data []byte) (cleanerCheckpoint, error) {
	fields, version, err := keyvalue.Decode(path, "strata-cleaner-checkpoint", 1, cleanerCheckpointVersion, data)
	if err != nil {
		return cleanerCheckpoint{}, err
	}
	c := cleanerCheckpoint{gapsBelow: math.MaxInt64}
	var err1, err2 error
	c.point, err1 = strconv.ParseInt(fields["cleaner-point"], 10, 64)
	if version >= 2 {
		c.gapsBelow, err2 = strconv.ParseInt(fields["gaps-below"], 10, 64)
	}
	if err1 != nil || err2 != nil || c.point < 0 || c.gapsBelow < 0 {
		return cleanerCheckpoint{}, errs.Corruptf(path, 0, "cleaner checkpoint: bad field")
	}
	return c, nil
}

// readCleanerCheckpoint returns the cleaner checkpoint in dir: found is false if
// there is no file, and a damaged one is a *CorruptError (the caller logs it).
func readCleanerCheckpoint(fsys vfs.FS, dir string) (c cleanerCheckpoint, found bool, err error) {
	path := filepath.Join(dir, CleanerCheckpointFile)
	data, err := readSmallFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return cleanerCheckpoint{}, false, nil
	}
	if err != nil {
		return cleanerCheckpoint{}, false, err
	}
	c, err = decodeCleanerCheckpoint(path, data)
	return c, true, err
}

func writeCleanerCheckpoint(fsys vfs.FS, dir string, c cleanerCheckpoint) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, CleanerCheckpointFile), c.encode())
}
