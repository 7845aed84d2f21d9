// Package log is the embedded store of topics that most applications open: a
// directory of named topics, each a set of partitions (package partition), with
// producers and consumers that feel like franz-go's kgo or segmentio/kafka-go, and no
// broker to run.
//
// The package is named log, like the standard library's; importers that need both
// may alias it (strlog "github.com/stratalog/strata/log"). strata logs through
// log/slog.
//
// # Usage
//
//	store, err := log.Open("data", nil) // nil: defaults (fsync every append, keep forever)
//	defer store.Close()
//	err = store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3})
//
//	// Synchronous: returns once durable, with Partition and Offset set.
//	rec := &log.Record{Topic: "orders", Key: []byte("customer-7"), Value: []byte("...")}
//	err = store.Produce(ctx, rec)
//
//	// Asynchronous: batched per partition (BatchBytes, Linger), promise per record.
//	producer, err := store.NewProducer(log.ProducerOptions{})
//	producer.Produce(ctx, rec, func(r *log.Record, err error) { ... })
//	err = producer.Flush(ctx)
//
//	// Consuming without a group: assign partitions, seek, poll.
//	consumer, err := store.NewConsumer(log.ConsumerOptions{})
//	err = consumer.Assign(log.TopicPartition{Topic: "orders", Partition: 0})
//	records, err := consumer.Poll(ctx) // waits for records
//
//	// Consuming in a group: the members share the partitions; positions are
//	// committed offsets that survive restarts.
//	member, err := store.NewGroupConsumer(log.GroupConsumerOptions{Group: "billing", Topics: []string{"orders"}})
//	defer member.Close() // commits what Poll returned, leaves the group at once
//	err = member.Consume(ctx, func(r *log.Record) error { ...; return nil })
//
// # Consumer groups
//
// A GroupConsumer is one member of a consumer group, run by the group package's
// coordinator inside the store (Kafka's classic protocol: generations, fencing of
// members that were removed, range, round-robin, sticky and cooperative-sticky
// assignors). Each partition of the subscribed topics is owned by one member at a
// time; different groups consume independently. Committed offsets live in the
// internal compacted topic __consumer_offsets (OffsetsTopic), created the first time
// a group is used, so a restarted application resumes where its group committed.
// Delivery is at least once: auto-commit commits only what was processed (the
// records of earlier Polls, or those Consume's handler accepted), never what a
// crash interrupted; Close commits what Poll returned, as Kafka's clients do; a
// revocation waits for the application to finish what it was handed, so graceful
// rebalances redeliver nothing. In one process the coordinator tells members of a
// rebalance at once: a group settles in milliseconds. A member whose application
// stops calling Poll leaves the group after MaxPollInterval. ListGroups,
// DescribeGroup (with lag), CommittedOffsets, CommitGroupOffsets and DeleteGroup
// manage groups from outside.
//
// # Isolation levels
//
// ConsumerOptions.IsolationLevel and GroupConsumerOptions.IsolationLevel are
// Kafka's isolation.level. ReadUncommitted, the default as in Kafka, reads every
// record, those of open and aborted transactions included. ReadCommitted reads up
// to each partition's last stable offset (the first offset of the earliest
// transaction not yet decided, at most the high watermark; in a store of several
// brokers, the leader's), waits there until the transaction is decided, and skips
// the records of aborted transactions (found in the segments' .txnindex, without
// a scan). At that level SeekToEnd, ResetLatest, Lag and CaughtUp take the last
// stable offset as the end, as do Store.ListEndOffsetsFor(ReadCommitted, ...) and
// the strata CLI's consume --isolation-level read_committed. Transaction markers
// are returned at neither level.
//
// # Topics and configuration
//
// A topic has a TopicConfig: partitions, sync policy, segment size and age,
// retention by bytes and age (default: forever), compression codec, maximum batch
// size, cleanup policy and the compaction settings. A zero field inherits
// Options.TopicDefaults, whose zero fields take the built-in defaults.
// Invalid configs are refused with a *ConfigError naming every invalid field.
// AlterTopicConfig changes a topic's settings after CreateTopic (Kafka's
// incremental AlterConfigs), checked the same way, durable in topics.json and
// applied to the running partitions. ParseTopicConfigs and TopicConfig.Configs map
// a TopicConfig to and from Kafka's config names (retention.ms, segment.bytes,
// ...), as the strata CLI's --config takes them. Topic
// names follow Kafka's rules (ValidateTopicName), so a name can never reach outside
// the data directory; names starting with "__" are reserved for the store's internal
// topics, which only the store writes: Produce, a Producer, DeleteRecords and
// AddPartitions refuse them (ErrInternalTopic). A record of OffsetsTopic that does
// not decode is skipped at Open (logged at Error, counted in
// Stats.SkippedOffsetsRecords) rather than making the store unopenable.
//
// # Compacted topics
//
// A topic with CleanupPolicy CleanupCompact is a changelog: the store keeps the
// latest record of each key and removes the records a later one of the same key
// supersedes, as Kafka's log compaction does, so that a consumer reading it from the
// start rebuilds the current table. A record with a nil Value (a tombstone) deletes
// its key; it stays DeleteRetention (24 hours) after compaction first kept it, then
// goes. Offsets never change; consumers skip the gaps. The store compacts, in the
// background, the partitions whose dirty share reaches MinCleanableDirtyRatio (0.5),
// leaving records younger than MinCompactionLag alone; Store.Compact does it on
// demand and Store.CompactPartition at once. CleanupCompactDelete adds retention by
// bytes and age. As in Kafka, a compacted topic refuses records without a key
// (ErrInvalidArgument); a partition used directly keeps keyless records through
// compaction.
//
//	err = store.CreateTopic(ctx, "users", log.TopicConfig{CleanupPolicy: log.CleanupCompact})
//	err = store.Produce(ctx, &log.Record{Topic: "users", Key: []byte("u7"), Value: nil}) // delete u7
//
// # Partitioning
//
// A record with ExplicitPartition goes to Partition. Otherwise the Partitioner
// decides; the default hashes a non-nil key as Kafka's Java client and franz-go's
// kgo do, toPositive(murmur2(key)) % n (see KeyPartition), so that a key goes to the
// same partition whether a record is produced here or by a Kafka client, and sends
// unkeyed records to one partition of the topic until about DefaultBatchBytes went
// there, then to another (Kafka's sticky partitioner). A topic created before strata
// used murmur2 keeps the XXH64 partitioning it was created with (LegacyKeyPartition),
// recorded in topics.json, so its keys stay in the partitions holding their records;
// DescribeTopic says which a topic uses (TopicDescription.KeyPartitioner).
//
// # Topic IDs
//
// Every topic has an ID (TopicID, Kafka's topic ID of KIP-516): 16 random bytes
// drawn at its creation and kept in topics.json, the same after every Open and on
// every broker; a topic deleted and created again under its name gets a new one.
// Store.TopicID and DescribeTopic report it, Store.TopicByID finds a topic by it.
// As on Kafka, each partition directory holds a partition.metadata naming it,
// checked at every open (another topic's ID: the partition is offline). A store
// made before topic IDs gets them at its first Open.
//
// # Acknowledgements and durability
//
// Store.Produce and a Producer with AcksAll (the default) report success once
// every in-sync replica holds the records under the topic's sync policy: with
// SyncEveryAppend (the default), once an fsync covers them on each; concurrent
// appends to a partition share fsyncs (group commit). With one replica (every
// topic of a one-broker store) that is the partition's own acknowledgement.
// AcksLeader reports once the leader wrote the records to the OS, with their fsync
// running in the background; AcksNone reports at buffering (see Acks).
//
// # Idempotent producers
//
// A Producer with AcksAll is idempotent by default, as Kafka's since 3.0: its
// batches carry a producer id (from producer-ids.json, which reserves ids a block at
// a time so that none is reused after a crash; in every broker directory of a store
// of several brokers, written to a majority), an epoch and a sequence number per
// partition, so that a batch retried after an unknown outcome (a leader change or a
// failed leader disk under the produce, a partition reopened by AlterTopicConfig) is
// recognised and not written twice, and a gap moves the producer to its next epoch
// (KIP-360). ProducerOptions.DisableIdempotence turns it off; AcksLeader and
// AcksNone producers, and Store.Produce, are not idempotent (Kafka refuses
// idempotence without acks=all). See Producer, and the partition package's
// "Idempotent producers" for the checks each partition makes.
//
// # Transactions
//
// A Producer with ProducerOptions.TransactionalID is transactional (Kafka's
// transactional.id): BeginTransaction, Produce, SendOffsetsToTransaction,
// CommitTransaction or AbortTransaction. The store runs the transaction
// coordinator (package txn) with its state in TransactionStateTopic, created at
// the first transactional producer; it writes COMMIT or ABORT markers to every
// partition of a transaction, and to OffsetsTopic for offsets sent to it, aborts
// transactions older than their timeout (Options.TransactionCheckInterval), and at
// Open finishes those a crash left decided. A new producer with the same
// transactional id fences the old one (ErrProducerFenced) and aborts its open
// transaction. Readers with IsolationLevel ReadCommitted see committed
// transactions only, up to the last stable offset. GroupTransactSession is the
// consume-transform-produce loop on top. See the README's "Exactly-once".
//
// # Brokers and replicas
//
// InitBrokers (strata init --brokers N) makes a store of several brokers: each a
// directory, in practice a disk, with an id; broker 0's is the store's directory,
// the others' are broker.<id> inside it or anywhere else. A topic's
// ReplicationFactor (at most the brokers) places that many replicas of each
// partition on as many brokers, spread as Kafka assigns them, the preferred leaders
// evenly; the package replica runs them: followers copy their leader, the leader
// keeps the ISR and sets the high watermark to what every in-sync replica holds
// durably, and consumers read only below it. An AcksAll produce needs
// MinInsyncReplicas in-sync replicas (replica.ErrNotEnoughReplicas otherwise).
// When a broker stops (StopBroker), its disk fails, or its directory is missing at
// Open, its leaderships move to in-sync replicas (an unclean election only where
// UncleanLeaderElection allows it); StartBroker brings it back, its replicas
// catch up and rejoin the ISR; ElectPreferredLeaders (and, every five minutes, the
// store itself) puts leadership back on the preferred replicas. Brokers describes
// them, DescribeTopic gives each partition's leader, replicas, ISR and ELR.
//
// In a store of several brokers, topics.json and the controller's state
// (controller-state.json: replicas, leader, epochs, ISR) have a copy in every broker
// directory, and each change must reach a majority of them, so that the store opens
// from any broker's directory and survives the loss of any one disk. Each broker
// directory carries its identity (meta.properties) and the list of the store's
// brokers (brokers.json): an empty or foreign directory where a broker's was keeps
// that broker offline, never read as a broker that lost everything. A replica whose
// directory is missing starts empty and copies its leader, after the controller
// took it out of the ISR; one found corrupt at Open is set aside
// (<name>.<time>-damaged) and rebuilt likewise, when another replica is in sync.
// A one-broker store (every store made before, and every store made without
// InitBrokers) has none of these files and runs no replica layer.
//
// Every Options.RecoveryPointInterval (1 second), and at Store.Sync and Close, the
// store records in recovery-points.checkpoint each partition's recovery point: the
// offset below which it was fsynced. After a power loss, records below it that are
// missing (the newest segment cut at a batch boundary, say) take the partition
// offline as corrupt rather than leaving it shorter; only records fsynced since the
// last recording and cut exactly at a batch boundary cannot be told from a tail that
// was never fsynced. Store.Sync also fsyncs what SyncPeriodic and SyncNone topics
// hold.
//
// # Serving Kafka's protocol
//
// A server speaking Kafka's protocol over a Store (the kafka module) uses the
// serving API: Store.Broker(id) is one broker as a client sees it, whose
// AppendBatch, FetchBatches, WaitForData and EndOffsetForEpoch serve only the
// partitions it leads and refuse the others with a *NotLeaderError naming the
// leader (NOT_LEADER_OR_FOLLOWER); the Store's own methods of those names go to
// whichever broker leads. AppendBatch checks a producer's batch as Kafka's
// LogValidator does and writes it as it came (lz4 is ErrUnsupportedCompression),
// adding a transactional batch's partition to its transaction (KIP-890);
// FetchBatches returns whole batches as they lie on disk, a view of the segment's
// memory mapping valid until FetchResult.Release, with the aborted transactions a
// read_committed fetch needs; on Linux, FetchResult.File also names them as a
// range of the segment file (its own descriptor, which keeps the bytes through
// retention, compaction and Close), which a server sends with sendfile(2). GroupCoordinator and TxnCoordinator are the
// coordinators GroupConsumers and transactional Producers use, so that a Kafka
// client and an in-process GroupConsumer can share a group.
//
// # On disk
//
//	dir/
//	  .lock                       held by the open Store (flock): a second Open fails with ErrLocked
//	  topics.json                 topic metadata: names, IDs, partition counts, each topic's own settings (Kafka's config names)
//	  recovery-points.checkpoint  how far each partition was fsynced (a hint, checksummed)
//	  orders-0/                   partition 0 of topic "orders" (see package partition)
//	  orders-1/
//
// topics.json is replaced crash-atomically (temp file, fsync, rename, fsync of the
// directory), carries a CRC-32C that Open checks, and is the truth about which
// topics exist. strata removes only directories it marked for removal itself:
// CreateTopic and AddPartitions make each new partition directory under a marked
// name ("orders-0.<id>-create"), then list it in topics.json (the commit point),
// then rename it; DeleteTopic renames each partition directory to a marked name
// ("orders-0.<id>-delete"), then writes topics.json without the topic (the commit
// point), then removes them. Open finishes or undoes whatever a crash interrupted
// from those marks, and removes nothing else: a directory named like a partition
// that topics.json does not list and strata did not mark (a user's backup-1/) is
// left alone and logged at Warn, and CreateTopic over its name fails with
// ErrPartitionDirExists. A directory holding partition directories but no
// topics.json is refused rather than cleaned. recovery-points.checkpoint never holds
// a point for a partition made anew: DeleteTopic rewrites it without the topic's
// partitions, CreateTopic and AddPartitions first if one is left, and Open ignores
// the points of partitions topics.json does not list. A damaged one is logged at
// Error and written anew.
//
// # Offline partitions
//
// A partition that Open cannot open (corrupt files, its directory missing or a
// symlink, an I/O error) is offline: Open succeeds without it, logs it at Error,
// and lists it in OfflinePartitions, DescribeTopic and Stats; every call that needs
// it returns a *PartitionOfflineError (ErrPartitionOffline, wrapping the cause),
// and the rest of the store serves. ReopenPartition brings it back after a repair.
// Failures of the store as a whole (the lock, topics.json) still fail Open. The
// partitioner does not steer records away from an offline partition, keyless ones
// included (Kafka's does, for keyless records): a record bound for it fails, so that
// a key always keeps its partition.
//
// Verify checks every batch of the open store, Scrub (and strata verify) a closed
// one without changing it; RepairPartition and Repair (strata repair) repair a
// damaged partition explicitly, never on their own: see partition.Repair. A plain
// Consumer reads a repaired partition on from where it stopped; a GroupConsumer that
// owns a partition going offline returns the error once, serves its other
// partitions, and reads it again once it is back.
//
// # Background work
//
// Each Store runs two goroutines: one applies retention and then compaction every
// Options.RetentionCheckInterval (5 minutes; ApplyRetention and Compact do them on
// demand; Close cancels a compaction in progress), the other records the recovery
// points every Options.RecoveryPointInterval (1 second; Sync does it on demand). A
// Producer runs one goroutine per partition while it has batches to write, plus its
// linger timers; a Consumer starts none: Poll and Next wait by selecting on the
// assigned partitions' notification channels. Store.Close closes the store's producers
// (flushing them) and consumers, stops the background goroutines, closes every
// partition, records the recovery points and releases the lock. Every Close is
// idempotent.
//
// # Concurrency and ownership
//
// A Store and a Producer are safe for concurrent use. A Consumer is for one
// goroutine, except Close. Topic metadata is served from an immutable snapshot
// behind an atomic pointer, so producing and polling take no store-wide lock; topic
// changes are serialized among themselves. Lock order: Store.adminMu, then Store.mu
// or the recovery points' lock, then a partition's locks; Producer.mu is never held while calling into a
// partition.
//
// Store.Produce uses the records' bytes only while it runs. A Producer uses them
// until the record's promise is called, so the caller must not change them before;
// under AcksNone it copies them, and the caller may reuse them once Produce returns.
// Both set the records' Partition, Offset and zero Timestamp. Records returned by
// Poll belong to the caller and share no memory with the store. The record Next
// (or TryNext) returns is the Consumer's, not copied: it and its bytes (which may
// alias a segment's memory mapping) are valid until the Consumer's next call, and
// must not be changed, nor produced (produce a copy).
package log
