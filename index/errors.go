package index

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
)

// Sentinel errors of package index, checked with errors.Is.
var (
	// ErrIndexFull is returned by OffsetIndex.Append and TimeIndex.MaybeAppend when
	// another entry would make the file exceed Options.MaxBytes. Nothing is appended;
	// the segment should roll.
	ErrIndexFull = errors.New("strata/index: index full")

	// ErrInvalidArgument is errs.ErrInvalidArgument, returned (wrapped with detail) for
	// an offset, position or timestamp that breaks an index's ordering or does not fit
	// its 32-bit fields, and for invalid Options. Nothing changes.
	ErrInvalidArgument = errs.ErrInvalidArgument

	// ErrClosed is errs.ErrClosed, returned by every write to a closed index.
	ErrClosed = errs.ErrClosed

	// ErrCorrupt is errs.ErrCorrupt, wrapped by the *errs.CorruptError that
	// OpenOffsetIndex and OpenTimeIndex return for a structurally invalid file.
	ErrCorrupt = errs.ErrCorrupt
)

// errorf is fmt.Errorf for the package's errors: their text says "strata/index: "
// once, however many of the package's own errors it wraps (see errs.Errorf).
func errorf(format string, args ...any) error { return errs.Errorf(format, args...) }
