// Package txn is the transaction coordinator: Kafka's TransactionCoordinator and
// TransactionStateManager for strata, and the producer id allocator.
package txn
