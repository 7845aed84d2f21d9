package partition

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// CleanerCheckpointFile is the name of the file in a partition directory that records
// the cleaner point: every offset below it has been compacted (Kafka keeps the same
// number in its cleaner-offset-checkpoint). Compaction writes it after each swap and
// TruncateTo lowers it; a partition that never compacted has none. Format (text, one
// "key value" per line, the last line a CRC-32C of the bytes before it, in hex):
//
//	strata-cleaner-checkpoint 1
//	cleaner-point 368769
//	crc32c f7fe17bd
//
// It is replaced crash-atomically (temp file, fsync, rename, fsync directory). The
// cleaner point is only a hint of where dirty bytes begin: a missing file, or one that
// fails its CRC, means 0 (everything is dirty), which is always safe.
const CleanerCheckpointFile = "cleaner.checkpoint"

const cleanerCheckpointVersion = 1

func encodeCleanerCheckpoint(point int64) []byte {
	return encodeKeyValues("strata-cleaner-checkpoint", cleanerCheckpointVersion,
		"cleaner-point", strconv.FormatInt(point, 10))
}

func decodeCleanerCheckpoint(path string, data []byte) (int64, error) {
	fields, err := decodeKeyValues(path, "strata-cleaner-checkpoint", cleanerCheckpointVersion, data)
	if err != nil {
		return 0, err
	}
	point, err := strconv.ParseInt(fields["cleaner-point"], 10, 64)
	if err != nil || point < 0 {
		return 0, errs.Corruptf(path, 0, "cleaner checkpoint: bad cleaner-point")
	}
	return point, nil
}

// readCleanerCheckpoint returns the cleaner point recorded in dir: 0 if there is no
// file, and 0 with a *CorruptError if the file is damaged (the caller logs it).
func readCleanerCheckpoint(fsys vfs.FS, dir string) (int64, error) {
	path := filepath.Join(dir, CleanerCheckpointFile)
	data, err := readSmallFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return decodeCleanerCheckpoint(path, data)
}

func writeCleanerCheckpoint(fsys vfs.FS, dir string, point int64) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, CleanerCheckpointFile), encodeCleanerCheckpoint(point))
}
