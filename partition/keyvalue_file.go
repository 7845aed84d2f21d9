package partition

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/vfs"
)

// The checkpoint files of a partition share one text format (package
// internal/keyvalue, which a store's recovery-points.checkpoint uses too): a first
// line naming the format and its version, one "key value" line per field, and a
// last line "crc32c XXXXXXXX", the CRC-32C of every byte before it in lowercase hex.

// maxSmallFileBytes bounds what Open reads of a checkpoint file: a damaged file
// claiming gigabytes is corrupt, not read.
const maxSmallFileBytes = 1 << 20

// readSmallFile reads a checkpoint file of at most maxSmallFileBytes; a larger one is
// a *CorruptError.
func readSmallFile(fsys vfs.FS, path string) ([]byte, error) {
	return readFileBounded(fsys, path, maxSmallFileBytes)
}

// readFileBounded reads a checkpoint file of at most limit bytes; a larger one is a
// *CorruptError.
func readFileBounded(fsys vfs.FS, path string, limit int64) ([]byte, error) {
	data, err := vfs.ReadFileLimit(fsys, path, limit)
	if errors.Is(err, vfs.ErrTooLarge) {
		return nil, errs.Corruptf(path, 0, "%v", err)
	}
	return data, err
}

// encodeKeyValues returns a file of format name at version, with the
// fields in the given order (pairs of key and value) and its CRC line.
func encodeKeyValues(name string, version int, fields ...string) []byte {
	return keyvalue.Encode(name, version, fields...)
}

// decodeKeyValues checks data's CRC line and format line (name at a version from
// minVersion to maxVersion) and returns its fields by key, and the version. A failed
// check is a *CorruptError naming path.
func decodeKeyValues(path, name string, minVersion, maxVersion int, data []byte) (map[string]string, int, error) {
	return keyvalue.Decode(path, name, minVersion, maxVersion, data)
}
