package partition

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
)

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
	// ErrOutcomeUnknown is joined to the error of an Append (or AppendWith) whose
	// batch was written but not acknowledged durable: its fsync failed, the
	// partition closed after a failed fsync, or ctx ended while the append waited.
	// The batch may or may not survive, and appending it again may store it twice.
	ErrOutcomeUnknown = errs.ErrOutcomeUnknown
)

// Errors of appends carrying a producer identity (producer_state.go). Nothing is
// written when they are returned.
var (
	// ErrDuplicateSequence is returned with the base offset of the original batch
	// when a producer's batch repeats one of its last five batches (same epoch, same
	// first and last sequence): a retry of a batch already in the log. Nothing is
	// written, and the original is acknowledged under the sync policy before the
	// call returns. A Kafka broker answers such a produce with success and the
	// original offset (the error code DUPLICATE_SEQUENCE_NUMBER is not sent); a
	// caller that follows Kafka treats it as success. The error is a
	// *DuplicateSequenceError, which gives the original's offsets.
	ErrDuplicateSequence = errors.New("strata/partition: duplicate sequence number")
	// ErrOutOfOrderSequence is Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER: the batch's
	// first sequence does not follow the producer's last one, or a new epoch does not
	// start at sequence 0.
	ErrOutOfOrderSequence = errors.New("strata/partition: out of order sequence number")
	// ErrInvalidProducerEpoch is Kafka's INVALID_PRODUCER_EPOCH (which replaced
	// PRODUCER_FENCED in produce responses in Kafka 2.7): the batch's producer epoch
	// is below the latest one the partition has seen from that producer id.
	ErrInvalidProducerEpoch = errs.ErrInvalidProducerEpoch
	// ErrInvalidTxnState is Kafka's INVALID_TXN_STATE: a producer with an open
	// transaction sent a non-transactional batch.
	ErrInvalidTxnState = errs.ErrInvalidTxnState
	// ErrTransactionCoordinatorFenced is Kafka's TRANSACTION_COORDINATOR_FENCED: a
	// transaction marker carries a coordinator epoch below the latest one the
	// partition has seen for the producer (a deposed coordinator's late marker).
	ErrTransactionCoordinatorFenced = errors.New("strata/partition: transaction coordinator fenced")
)

// CorruptError reports invalid bytes on disk: the file, the byte position and why.
type CorruptError = errs.CorruptError

// errorf is fmt.Errorf for the package's errors: their text says "strata/partition: "
// once, however many of the package's own errors it wraps (see errs.Errorf).
func errorf(format string, args ...any) error { return errs.Errorf(format, args...) }
