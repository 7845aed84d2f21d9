package segment

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// File name suffixes of a segment's files.
const (
	LogSuffix       = ".log"       // Format: record batches
	IndexSuffix     = ".index"     // Format: sparse offset index
	TimeIndexSuffix = ".timeindex" // Format: time index
)

// Suffixes that compaction appends after a segment file's own suffix while it builds a
// cleaned segment and swaps it in, as Kafka does: "00000000000000368769.log.cleaned",
// then "00000000000000368769.log.swap", then the final "00000000000000368769.log".
// FORMAT.md says what Open does with each.
const (
	CleanedSuffix = ".cleaned" // Format: cleaned output being written; Open deletes it
	SwapSuffix    = ".swap"    // Format: cleaned output complete; Open finishes the swap
)

// baseDigits is the width of the zero-padded base offset in file names (Format).
const baseDigits = 20

// FileName returns the name of a segment file: the base offset zero-padded to 20
// digits followed by suffix, e.g. FileName(368769, LogSuffix) is
// "00000000000000368769.log".
func FileName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// LogPath returns the path of the .log file of the segment with base offset base in dir.
func LogPath(dir string, base int64) string { return filepath.Join(dir, FileName(base, LogSuffix)) }

// IndexPath returns the path of the .index file of the segment.
func IndexPath(dir string, base int64) string { return filepath.Join(dir, FileName(base, IndexSuffix)) }

// TimeIndexPath returns the path of the .timeindex file of the segment.
func TimeIndexPath(dir string, base int64) string {
	return filepath.Join(dir, FileName(base, TimeIndexSuffix))
}

// ParseFileName splits a segment file name into its base offset and suffix (".log",
// ".index", ".timeindex", or any other suffix such as ".log.deleted"). ok is false
// for a name that does not start with 20 decimal digits followed by a dot.
func ParseFileName(name string) (base int64, suffix string, ok bool) {
	if len(name) <= baseDigits || name[baseDigits] != '.' {
		return 0, "", false
	}
	digits := name[:baseDigits]
	if strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, "", false
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return base, name[baseDigits:], true
}
