package segment

import "github.com/stratalog/strata/internal/errs"

// Errors returned by this package. ErrFull is declared in segment.go; shared
// sentinels are the same values in every strata package.
var (
	// ErrCorrupt is wrapped by every error about invalid bytes on disk; the error is a
	// *CorruptError naming the file and position.
	ErrCorrupt = errs.ErrCorrupt
	// errClosed is returned by calls on a closed segment.
	errClosed = errs.ErrClosed
)

// CorruptError reports invalid bytes on disk: the file, the byte position and the
// reason.
type CorruptError = errs.CorruptError

// maxCompressionRatio bounds how much a batch may grow when decompressed, relative to
// MaxBatchBytes, when this package decodes one itself.
const (
	maxCompressionRatio    = 64
	defaultMaxDecompressed = 64 << 20
)

func corruptAt(path string, pos int64, err error) error {
	return errs.Corruptf(path, pos, "%v", err)
}
