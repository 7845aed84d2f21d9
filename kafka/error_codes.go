package kafka

import (
	"context"
	"errors"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kerr"
)

// errorCode returns the Kafka error code for an error of the store, and the
// message to send with it (the error's text; empty for no error).
func errorCode(err error) (int16, *string) {
	if err == nil {
		return 0, nil
	}
	message := err.Error()
	return errorKind(err).Code, &message
}

// errorKind maps the store's sentinels to Kafka's errors.
func errorKind(err error) *kerr.Error {
	switch {
	case errors.Is(err, errNotCoordinator):
		return kerr.NotCoordinator
	case errors.Is(err, log.ErrNotLeader), errors.Is(err, replica.ErrNoLeader):
		return kerr.NotLeaderForPartition
	case errors.Is(err, log.ErrUnsupportedCompression):
		return kerr.UnsupportedCompressionType
	case errors.Is(err, log.ErrBatchChecksum):
		return kerr.CorruptMessage
	case errors.Is(err, log.ErrInvalidBatch):
		return kerr.InvalidRecord
	case errors.Is(err, partition.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber
	case errors.Is(err, txn.ErrProducerFenced):
		return kerr.ProducerFenced
	case errors.Is(err, partition.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch
	case errors.Is(err, partition.ErrInvalidTxnState):
		return kerr.InvalidTxnState
	case errors.Is(err, partition.ErrTransactionCoordinatorFenced):
		return kerr.TransactionCoordinatorFenced
	case errors.Is(err, txn.ErrConcurrentTransactions):
		return kerr.ConcurrentTransactions
	case errors.Is(err, txn.ErrInvalidProducerIDMapping):
		return kerr.InvalidProducerIDMapping
	case errors.Is(err, txn.ErrInvalidTransactionTimeout):
		return kerr.InvalidTransactionTimeout
	case errors.Is(err, txn.ErrTransactionalIDNotFound):
		return kerr.TransactionalIDNotFound
	case errors.Is(err, txn.ErrInvalidTransactionalID):
		return kerr.InvalidRequest
	case errors.Is(err, txn.ErrCoordinatorClosed):
		return kerr.CoordinatorNotAvailable
	case errors.Is(err, replica.ErrNotEnoughReplicasAfterAppend):
		return kerr.NotEnoughReplicasAfterAppend
	case errors.Is(err, replica.ErrNotEnoughReplicas):
		return kerr.NotEnoughReplicas
	case errors.Is(err, log.ErrOutcomeUnknown):
		return kerr.RequestTimedOut
	case errors.Is(err, log.ErrUnknownTopic), errors.Is(err, log.ErrUnknownPartition):
		return kerr.UnknownTopicOrPartition
	case errors.Is(err, log.ErrTopicExists):
		return kerr.TopicAlreadyExists
	case errors.Is(err, log.ErrInvalidTopicName), errors.Is(err, log.ErrTopicCollision):
		return kerr.InvalidTopicException
	case errors.Is(err, log.ErrInvalidConfig):
		return kerr.InvalidConfig
	case errors.Is(err, log.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange
	case errors.Is(err, log.ErrPartitionOffline), errors.Is(err, log.ErrBrokerOffline):
		return kerr.KafkaStorageError
	case errors.Is(err, log.ErrRecordTooLarge):
		return kerr.MessageTooLarge
	case errors.Is(err, log.ErrInternalTopic), errors.Is(err, log.ErrInvalidArgument):
		return kerr.InvalidRequest
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut
	}
	return kerr.UnknownServerError
}

// message returns a pointer to text, for the nullable ErrorMessage fields.
func message(text string) *string { return &text }
