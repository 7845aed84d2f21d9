package segment

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
)

// Errors returned by this package. Shared sentinels are the same values in every
// strata package.
var (
	// ErrUnsupportedCompression is returned for a batch compressed with a codec that
	// Kafka defines but strata does not implement (lz4). It does not wrap
	// errs.ErrCorrupt: such a batch is valid, strata just cannot read its records, and
	// recovery must not truncate the log there.
	ErrUnsupportedCompression = errors.New("strata/segment: unsupported compression codec")
	// ErrFull is returned by Append when the batch does not fit this segment: an index
	// is full, a relative offset or a position would overflow 32 bits. Nothing is
	// written; the owner rolls to a new segment.
	ErrFull = errors.New("strata/segment: segment full")

	// ErrCorrupt is wrapped by every error about invalid bytes on disk; the error is a
	// *CorruptError naming the file and position.
	ErrCorrupt = errs.ErrCorrupt
	// errClosed is returned by calls on a closed segment.
	errClosed = errs.ErrClosed
)

// CorruptError reports invalid bytes on disk: the file, the byte position and the
// reason.
type CorruptError = errs.CorruptError

func corruptAt(path string, pos int64, err error) error {
	return errs.Corruptf(path, pos, "%v", err)
}
