// Package txn is the transaction coordinator: Kafka's TransactionCoordinator and
// TransactionStateManager for strata, with the producer id allocator. It knows,
// per transactional id, the producer id and epoch and the state of the
// transaction (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
// CompleteAbort; Kafka's PrepareEpochFence and Dead are passed through, never
// stored), keeps that state in Kafka's __transaction_state records, and ends
// transactions by writing their decision, then a COMMIT or ABORT marker to every
// partition of the transaction, then their completion.
//
// The protocol is Kafka's with KIP-98 (transactions), KIP-360 (a producer
// re-initializing with its identity) and KIP-890 (transaction version 2):
//
//   - InitProducerID gives a transactional producer its producer id and epoch. A
//     new instance with the same transactional id bumps the epoch, which fences
//     the previous instance (a zombie): its requests now carry an older epoch and
//     are refused with ErrProducerFenced, and its Ongoing transaction is aborted
//     first, with the epoch bumped twice (PrepareEpochFence's bump and the abort's)
//     so that nothing of it can pass for a retry. With no transactional id it is
//     the idempotent producer's: a new producer id at epoch 0, nothing stored.
//   - AddPartitionsToTxn and AddOffsetsToTxn (which adds the group's
//     __consumer_offsets partition) start the transaction and grow it.
//   - EndTxn decides commit or abort: the decision is stored with the epoch bumped
//     (KIP-890's bump at every end), the markers carry the bumped epoch, and the
//     producer's next transaction uses it. A delayed EndTxn of transaction N that
//     arrives while N+1 is under way presents N's epoch and is refused (the
//     Bufstream finding KIP-890 fixes). A retry of an end is answered as the end
//     was. When the epochs run out the id moves to a new producer id at epoch 0
//     (NextProducerID, then PreviousProducerID).
//   - An Ongoing transaction older than its timeout is aborted by Tick, its
//     producer fenced; an id with no transaction in progress idle for
//     Options.TransactionalIDExpiration (7 days) is removed with a tombstone.
//
// strata differs from Kafka where an in-process coordinator lets it do better
// without changing what is stored: a new instance's InitProducerID waits for the
// abort of the fenced instance's transaction and returns the new epoch, where
// Kafka answers CONCURRENT_TRANSACTIONS and the client retries (its markers are
// written asynchronously); EndTxn writes the markers before it returns, and
// reports in EndTxnResult.Complete whether they were all written. An epoch newer
// than the coordinator's is ErrInvalidProducerEpoch, where Kafka says
// PRODUCER_FENCED for both directions.
//
// # Usage
//
//	coord, err := txn.Open(ctx, &txn.Options{Log: stateLog, Markers: markers, ProducerIDs: ids})
//	p, err := coord.InitProducerID(ctx, "copier-1", time.Minute, nil)
//	err = coord.AddPartitionsToTxn(ctx, "copier-1", p, []txn.TopicPartition{{Topic: "out", Partition: 0}})
//	... write the transactional batches with p's producer id and epoch ...
//	err = coord.AddOffsetsToTxn(ctx, "copier-1", p, "copier-group")
//	... TxnOffsetCommit through the group coordinator ...
//	r, err := coord.EndTxn(ctx, "copier-1", p, true)
//	p = r.ProducerIDAndEpoch // the next transaction's epoch
//
// and something calls coord.Tick(ctx) every few seconds (Kafka checks timeouts
// every 10 s), with the real clock.
//
// # Records
//
// The key and value are Kafka's TransactionLogKey v0 and TransactionLogValue v1
// (written; v0 read too). FORMAT.md holds the full description; in short:
//
//	key    +---------+-----------------+
//	       | version | transactionalId |
//	       | int16=0 | int16 len, UTF-8|
//	       +---------+-----------------+
//	value  +---------+------------+---------------+-----------+--------+
//	       | version | producerId | producerEpoch | timeoutMs | status |
//	       | int16=1 | int64      | int16         | int32     | int8   |
//	       +---------+------------+---------------+-----------+--------+
//	       | partitions (compact, null if Empty)           | lastUpdateMs | startMs |
//	       | [topic compact str, [int32] compact, tags=0]  | int64        | int64   |
//	       +-----------------------------------------------+--------------+---------+
//	       | tagged fields: 0 PreviousProducerId int64, 1 NextProducerId int64,      |
//	       |                2 ClientTransactionVersion int16 (2, or 1: EndTxnVersion1)|
//	       +-------------------------------------------------------------------------+
//	nil value: tombstone of an expired transactional id
//
// # Recovery
//
// Open replays the Log (the latest record of each id wins, a tombstone removes
// it) and finishes every transaction left decided: it writes every marker again
// and then the completion. So a crash at any point of an end resolves all or
// nothing: before the decision is stored the transaction is still Ongoing (its
// producer ends it again, or the timeout aborts it); after, every partition gets
// the decision's marker. A transaction left Ongoing stays so until its producer
// ends it or its timeout. Producer ids come from a ProducerIDAllocator;
// BlockAllocator stores the end of a block through a BlockStore before handing out
// its first id, so that no id is reused after a crash.
//
// # Concurrency and ownership
//
// A Coordinator is safe for concurrent use. Its lock (mu) guards the ids' metadata
// and is never held while it calls the Log, the MarkerWriter or the allocator. A
// call that changes an id marks it pending for the length of its writes (for an
// end: the decision, the markers, the completion); another request on that id
// meanwhile is refused with ErrConcurrentTransactions, as Kafka refuses it, and
// retried by the producer. Calls on different ids run concurrently. The caller
// owns the Log, the MarkerWriter, the allocator and its BlockStore: Close closes
// none of them. Returned Metadata are copies.
//
// # Wiring into a store
//
// The log package implements, and passes in Options: Log over the one partition of
// the internal topic __transaction_state (Append: one batch, acknowledged once
// durable; Replay: read the partition from its start); MarkerWriter, which appends
// the control batch (COMMIT or ABORT, Kafka's marker format, with the Marker's
// producer id and epoch) to the partition and ends the producer's transaction in
// its producer state (the partition package's), and accepts a repeated marker;
// BlockStore, a small checksummed file at the top of the store. It calls Tick
// periodically from a goroutine it owns, and routes its producers' requests here.
package txn
