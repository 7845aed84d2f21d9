package partition

import (
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
	return keyvalue.ReadFile(fsys, path, maxSmallFileBytes)
}
