package txn

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
)

// Errors returned by the coordinator. Check them with errors.Is: returned errors
// may wrap them with context. Each matches the Kafka error code named in its
// comment, so that a Kafka-protocol listener can translate them one to one.
var (
	// ErrConcurrentTransactions: the id's previous transaction is still completing
	// (its markers are being written), or another request on it is in flight. The
	// producer retries after a backoff. (CONCURRENT_TRANSACTIONS)
	ErrConcurrentTransactions = errors.New("strata/txn: concurrent transactions")
	// ErrProducerFenced: the request's epoch is older than the id's: another
	// instance with the same transactional id took over, or the coordinator aborted
	// the transaction on its timeout. The producer must stop. (PRODUCER_FENCED)
	ErrProducerFenced = errors.New("strata/txn: producer fenced")
	// ErrInvalidProducerEpoch: an epoch newer than the coordinator's, which no
	// coordinator handed out. (INVALID_PRODUCER_EPOCH)
	ErrInvalidProducerEpoch = errs.ErrInvalidProducerEpoch
	// ErrInvalidProducerIDMapping: the producer id is not the transactional id's, or
	// the id has no metadata. (INVALID_PRODUCER_ID_MAPPING)
	ErrInvalidProducerIDMapping = errors.New("strata/txn: invalid producer id mapping")
	// ErrInvalidTxnState: the request does not fit the transaction's state (an
	// EndTxn with no transaction, a commit of a transaction being aborted).
	// (INVALID_TXN_STATE)
	ErrInvalidTxnState = errs.ErrInvalidTxnState
	// ErrTransactionalIDNotFound: Describe of an id the coordinator does not know.
	// (TRANSACTIONAL_ID_NOT_FOUND)
	ErrTransactionalIDNotFound = errors.New("strata/txn: transactional id not found")
	// ErrCoordinatorClosed is returned by every call on a closed Coordinator. It
	// matches ErrClosed too. (COORDINATOR_NOT_AVAILABLE)
	ErrCoordinatorClosed error = errs.Also("strata/txn: coordinator closed", errs.ErrClosed)
	// ErrInvalidTransactionTimeout: a timeout not above zero or above
	// Options.MaxTransactionTimeout. It matches ErrInvalidArgument too.
	// (INVALID_TRANSACTION_TIMEOUT)
	ErrInvalidTransactionTimeout error = errs.Also("strata/txn: invalid transaction timeout", errs.ErrInvalidArgument)
	// ErrInvalidTransactionalID: an empty id or one longer than
	// MaxTransactionalIDBytes; also an empty topic or group. It matches
	// ErrInvalidArgument too. (INVALID_REQUEST)
	ErrInvalidTransactionalID error = errs.Also("strata/txn: invalid transactional id", errs.ErrInvalidArgument)
	// ErrProducerIDsExhausted: the allocator has handed out every producer id.
	ErrProducerIDsExhausted = errors.New("strata/txn: producer ids exhausted")

	// ErrInvalidArgument is returned for malformed input; nothing changes. It is the
	// same value in every strata package.
	ErrInvalidArgument = errs.ErrInvalidArgument
	// ErrClosed is the error every closed strata object returns.
	ErrClosed = errs.ErrClosed
	// ErrCorrupt is wrapped by every error about an undecodable stored record.
	ErrCorrupt = errs.ErrCorrupt
)

// errorf is fmt.Errorf for the package's errors: their text says "strata/txn: "
// once, however many of the package's own errors it wraps (see errs.Errorf).
func errorf(format string, args ...any) error { return errs.Errorf(format, args...) }
