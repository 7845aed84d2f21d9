package partition

import "github.com/stratalog/strata/internal/errs"

// Errors returned by a partition. They are the same values in every strata package,
// so errors.Is works whichever layer returned them.
var (
	// ErrClosed is returned by every call after Close.
	ErrClosed = errs.ErrClosed
	// ErrOffsetOutOfRange is returned for a read below the start offset or above the
	// end offset, and for truncation or deletion targets outside the log.
	ErrOffsetOutOfRange = errs.ErrOffsetOutOfRange
	// ErrRecordTooLarge is returned when a batch exceeds MaxBatchBytes; nothing is
	// written.
	ErrRecordTooLarge = errs.ErrRecordTooLarge
	// ErrCorrupt is wrapped by every error about invalid bytes on disk; such errors are
	// *CorruptError values naming the file and position.
	ErrCorrupt = errs.ErrCorrupt
	// ErrInvalidArgument is returned for malformed input (no records, an invalid batch,
	// invalid options); nothing changes.
	ErrInvalidArgument = errs.ErrInvalidArgument
	// ErrOutcomeUnknown is joined to ErrClosed when an Append's batch was written but
	// the partition closed before the batch was durable (Close's own fsync failed):
	// the batch may or may not survive, and appending it again may store it twice.
	ErrOutcomeUnknown = errs.ErrOutcomeUnknown
)

// CorruptError reports invalid bytes on disk: the file, the byte position and why.
type CorruptError = errs.CorruptError

// errorf is fmt.Errorf for the package's errors: their text says "strata/partition: "
// once, however many of the package's own errors it wraps (see errs.Errorf).
func errorf(format string, args ...any) error { return errs.Errorf(format, args...) }
