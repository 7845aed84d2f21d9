package txn

import "time"

// The byte formats of this package, all Kafka's own (see doc.go for the diagrams).
// These constants are format: changing one changes what is on disk.
const (
	// StateTopic is the name of the internal compacted topic that holds the
	// coordinator's records, as in Kafka.
	StateTopic = "__transaction_state"

	// keyVersion is the version of a record's key (Kafka's TransactionLogKey v0,
	// the only one).
	keyVersion int16 = 0
	// valueVersion is the version of a record's value written: Kafka's
	// TransactionLogValue v1, the flexible version that transaction version 2
	// (KIP-890) writes, with PreviousProducerId, NextProducerId and
	// ClientTransactionVersion as tagged fields. Version 0 is read too.
	valueVersion int16 = 1
	// maxValueVersion is the newest value version this package reads.
	maxValueVersion int16 = 1

	// The tags of TransactionLogValue v1's tagged fields.
	tagPreviousProducerID       = 0
	tagNextProducerID           = 1
	tagClientTransactionVersion = 2

	// clientTransactionVersion is the newest transaction version strata's
	// coordinator runs, and the one a new id records: 2, KIP-890's epoch bump at
	// every commit and abort. Version 1 (EndTxnVersion1) is run for the clients
	// that ask for it.
	clientTransactionVersion int16 = 2

	// NoProducerID and NoProducerEpoch are Kafka's "none" values
	// (RecordBatch.NO_PRODUCER_ID, NO_PRODUCER_EPOCH).
	NoProducerID    int64 = -1
	NoProducerEpoch int16 = -1
	// noTimestamp is a timestamp not set (-1 ms).
	noTimestamp int64 = -1

	// MaxTransactionalIDBytes is the longest transactional id accepted: the largest
	// length of a Kafka string.
	MaxTransactionalIDBytes = 1<<15 - 1
)

// Defaults, all Kafka's.
const (
	// DefaultTransactionTimeout is a transaction's timeout when InitProducerID
	// names none (the producer's transaction.timeout.ms).
	DefaultTransactionTimeout = time.Minute
	// DefaultMaxTransactionTimeout bounds the timeouts producers may ask for
	// (transaction.max.timeout.ms).
	DefaultMaxTransactionTimeout = 15 * time.Minute
	// DefaultTransactionalIDExpiration is how long a transactional id with no
	// transaction in progress is kept after its last update
	// (transactional.id.expiration.ms).
	DefaultTransactionalIDExpiration = 7 * 24 * time.Hour
	// DefaultProducerIDBlockSize is how many producer ids a BlockAllocator reserves
	// per write of its block end (Kafka's ProducerIdsBlock size).
	DefaultProducerIDBlockSize = 1000
)
