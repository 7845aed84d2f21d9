// Package errs holds the sentinel errors and error types that every strata layer
// shares, so that errors.Is works across layers: an ErrOffsetOutOfRange returned by a
// partition is the same value a caller of the log package checks for.
//
// Public packages re-export these values (partition.ErrClosed == errs.ErrClosed); users
// never import this package.
package errs

import (
	"errors"
	"fmt"
)

// Sentinels shared by all layers.
var (
	// ErrClosed is returned by every call on a closed object.
	ErrClosed = errors.New("strata: closed")
	// ErrOffsetOutOfRange is returned for a read below the log start offset or above
	// the log end offset.
	ErrOffsetOutOfRange = errors.New("strata: offset out of range")
	// ErrRecordTooLarge is returned when a record or batch exceeds the configured
	// maximum batch size; nothing is written.
	ErrRecordTooLarge = errors.New("strata: record too large")
	// ErrCorrupt is wrapped by every CorruptError: bytes on disk that fail validation.
	ErrCorrupt = errors.New("strata: corrupt data")
	// ErrInvalidArgument is returned for caller input that is malformed; nothing changes.
	ErrInvalidArgument = errors.New("strata: invalid argument")
	// ErrOutcomeUnknown is joined to the error of a write whose records were written
	// but not acknowledged: they may or may not become part of the log, and a retry
	// may write them twice.
	ErrOutcomeUnknown = errors.New("strata: written, outcome unknown")
	// ErrInvalidProducerEpoch is Kafka's INVALID_PRODUCER_EPOCH, shared by the
	// partition's and the transaction coordinator's checks of a producer's epoch.
	ErrInvalidProducerEpoch = errors.New("strata: invalid producer epoch")
	// ErrInvalidTxnState is Kafka's INVALID_TXN_STATE, shared likewise.
	ErrInvalidTxnState = errors.New("strata: invalid transaction state")
)

// Also returns a sentinel error with text msg that also matches the more general
// also, so that for example errors.Is(ErrCoordinatorClosed, ErrClosed) holds.
func Also(msg string, also error) error { return &alsoMatches{msg: msg, also: also} }

type alsoMatches struct {
	msg  string
	also error
}

func (e *alsoMatches) Error() string { return e.msg }
func (e *alsoMatches) Unwrap() error { return e.also }

// CorruptError reports invalid bytes on disk: which file, at which byte position, and
// why. errors.Is(err, ErrCorrupt) is true for every CorruptError.
type CorruptError struct {
	Path     string // file holding the bad bytes
	Position int64  // byte position in the file where the bad data starts
	Reason   string // what check failed
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("strata: corrupt data in %s at position %d: %s", e.Path, e.Position, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) hold.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Corruptf builds a CorruptError.
func Corruptf(path string, position int64, format string, args ...any) error {
	return &CorruptError{Path: path, Position: position, Reason: fmt.Sprintf(format, args...)}
}
