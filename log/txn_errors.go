package log

import (
	"errors"

	"github.com/stratalog/strata/txn"
)

// Errors of transactional producers. Check them with errors.Is.
var (
	// ErrNotTransactional is returned by the transaction calls of a Producer
	// made without ProducerOptions.TransactionalID.
	ErrNotTransactional = errors.New("strata/log: producer is not transactional")
	// ErrNotInTransaction is returned by a transactional Producer's Produce (to
	// the record's promise), SendOffsetsToTransaction, CommitTransaction and
	// AbortTransaction when no transaction was begun.
	ErrNotInTransaction = errors.New("strata/log: no transaction in progress")
	// ErrTransactionAborted is returned by CommitTransaction when the transaction
	// could not commit (a record of it failed) and was aborted instead (a
	// transaction the coordinator aborted at its timeout fences its producer
	// instead: ErrProducerFenced): none of its records or offsets are visible to
	// read_committed readers. The producer may begin the next transaction. The
	// error also wraps the cause.
	ErrTransactionAborted = errors.New("strata/log: transaction aborted")
	// ErrProducerFenced is returned by every call of a transactional Producer
	// once a newer instance with the same transactional id started (or the
	// coordinator aborted its transaction on timeout and the producer is behind):
	// the producer must be closed. (Kafka's PRODUCER_FENCED.)
	ErrProducerFenced = txn.ErrProducerFenced
	// ErrInvalidTxnState is returned for a transaction call that does not fit
	// the transaction's state, such as BeginTransaction while one is in
	// progress.
	ErrInvalidTxnState = txn.ErrInvalidTxnState
	// ErrConcurrentTransactions is returned when the coordinator is still
	// ending the producer's previous transaction after retrying until the call's
	// context ended.
	ErrConcurrentTransactions = txn.ErrConcurrentTransactions
)
