// Package group is consumer groups: many consumers sharing a topic's partitions so
// that each partition is consumed by exactly one member of the group, while other
// groups consume the same partitions independently (one group is a queue, many
// groups are publish/subscribe). It holds the group coordinator, the built-in
// assignors, the committed offsets and their durable store, and lag.
//
// The coordinator follows Kafka's classic group protocol, so that a Kafka-protocol
// listener can drive it for remote clients exactly as in-process members drive it:
// members JoinGroup with a member id (empty the first time), an optional group
// instance id (static membership), the protocol type "consumer" and the protocols
// (assignors) they support, each with their subscription; the coordinator forms a
// generation once every member has (re)joined, selects the protocol all support and
// names a leader; the leader computes the assignment and hands it over in its
// SyncGroup; members Heartbeat, LeaveGroup, OffsetCommit and OffsetFetch. A
// rebalance starts when a member joins, leaves, misses its session timeout,
// changes its subscription, or when a subscribed topic's partition count changes
// (NotifyMetadataChanged). Every rebalance bumps the generation; commits and
// heartbeats from another generation, or from a member the group no longer knows,
// are refused (ErrIllegalGeneration, ErrUnknownMemberID), so that a member fenced
// out by a rebalance (a zombie) can never overwrite the offsets of the member that
// took its partitions over.
//
// # Usage
//
// An in-process consumer uses a Member, which wraps the protocol (and computes the
// assignment when it leads):
//
//	coord, err := group.NewCoordinator(&group.Options{Offsets: store, Metadata: topics})
//	coord.Start()                          // timeouts, group records, offset expiry
//	defer coord.Close()
//
//	m, err := coord.NewMember(group.MemberConfig{
//		Group:      "billing",
//		Topics:     []string{"orders"},
//		OnAssigned: func(tps []group.TopicPartition) { ... start consuming ... },
//		OnRevoked:  func(tps []group.TopicPartition) { ... commit, stop consuming ... },
//	})
//	go m.Run(ctx, 0)                       // join, heartbeat, rejoin when asked
//	err = m.Commit(ctx, map[group.TopicPartition]group.OffsetAndMetadata{tp: {Offset: next}})
//	defer m.Leave(ctx)                     // rebalance now, not after the session timeout
//
// A protocol listener calls the coordinator's methods one per request: JoinGroup
// and SyncGroup answer through a callback, because they wait for the rest of the
// group; Heartbeat, LeaveGroup, CommitOffsets and FetchOffsets return.
//
// A Member joins with the member-id handshake (KIP-394, JoinRequest.RequireMemberID):
// its first JoinGroup is answered at once with ErrMemberIDRequired and an id that
// is not yet a member, and it joins with that id. So it knows its id before it is
// in the group, and a member whose join is cancelled (closed while the group waits
// for the others) leaves with it instead of staying behind until its session
// timeout. A Member stopped while its JoinGroup waits (RunUntil) takes that
// JoinGroup back, so that the group does not form a generation with it and its
// last commit, in Leave, is of the generation it owns partitions in. A Member also hears of a rebalance from the coordinator at once
// (JoinRequest.OnRebalance) and rejoins without waiting for its next heartbeat: in
// one process a group settles in milliseconds, where Kafka's members learn of a
// rebalance only from a heartbeat (3 s by default), because the coordinator cannot
// reach them otherwise. A remote member, through a listener, still learns of it
// from its heartbeats.
//
// # Assignors and rebalance protocols
//
// Assignor is pluggable; RangeAssignor, RoundRobinAssignor, StickyAssignor and
// CooperativeStickyAssignor are Kafka's. A member follows the eager protocol
// (revoke everything before rejoining) unless all its assignors support the
// cooperative one (KIP-429): then it keeps its partitions while it rejoins, revokes
// only those it loses, and a partition moving between members is revoked in one
// generation and assigned in the next. Either way no partition is ever owned by two
// members of a group at once: eager members own nothing while a generation forms,
// and the cooperative assignor never hands a member a partition another member
// reports it owns. TestOwnershipInvariant checks this at every step of randomized
// joins, leaves, crashes, restarts and topic changes.
//
// # Time
//
// The coordinator is a synchronous state machine: nothing happens between calls.
// Time is an input (Options.Now); session and rebalance timeouts take effect in
// Tick, which tests call after moving their clock. Start runs the only goroutine:
// it calls Tick at each deadline (NextDeadline), writes group records (Flush) after
// changes, and expires offsets (ExpireOffsets) every
// Options.OffsetsRetentionCheckInterval; Close stops it and waits for it.
//
// # Offsets
//
// CommitOffsets stores all the offsets of one commit in one write; with
// PartitionOffsetStore that is one append of one batch to a partition used as
// Kafka's compacted __consumer_offsets log, acknowledged under the partition's sync
// policy (by default once fsynced). Opening the store replays the partition: the
// latest record of each key wins, a tombstone (nil value) deletes. Offsets of a
// deleted topic (DeleteTopicOffsets) and of groups empty for longer than
// Options.OffsetsRetention are deleted with tombstones. Describe reports, per
// partition, the owner, the committed offset, the end offset and the lag.
//
// # Transactional offset commits
//
// A transactional producer commits a consumer's offsets inside its transaction
// (Kafka's TxnOffsetCommit, KIP-98): TxnCommitOffsets checks the consumer's
// member and generation when the request carries them (KIP-447, so that a zombie
// fenced out by a rebalance cannot commit), then writes the offsets as one
// transactional batch of the producer. They are pending: FetchOffsets does not
// return them, HasPendingTxnOffsets reports them and FetchStableOffsets (a
// read_committed consumer's fetch, RequireStable) fails with
// ErrUnstableOffsetCommit while they are. The transaction coordinator ends the
// transaction by writing its marker to the offsets partition through
// PartitionOffsetStore.WriteTxnMarker: on COMMIT the pending offsets replace the
// committed ones, unless those were committed later in the log; on ABORT they are
// dropped. Replay rebuilds pending offsets and applies the markers in log order,
// so a restart at any step gives the same offsets. Offset retention keeps a
// partition with pending offsets and its group until the transaction ends.
//
//	txnCoord.AddOffsetsToTxn(ctx, id, producer, "billing")
//	coord.TxnCommitOffsets(ctx, group.TxnCommitRequest{Group: "billing", ProducerID: pid,
//		ProducerEpoch: epoch, MemberID: m, Generation: gen, Offsets: offsets})
//	txnCoord.EndTxn(ctx, id, producer, true) // its marker: store.WriteTxnMarker
//
// The records are Kafka's, byte for byte (format.go holds the versions; integers
// big-endian; a string is an int16 length and UTF-8 bytes, -1 for null; bytes an
// int32 length, -1 for null; an array an int32 count):
//
//	offset commit record
//	  key   (OffsetCommitKey v1)              value (OffsetCommitValue v3); nil: deleted
//	  +---------+-------+-------+-----------+  +---------+--------+-------------+----------+------------+
//	  | version | group | topic | partition |  | version | offset | leaderEpoch | metadata | commitTime |
//	  | int16=1 | str   | str   | int32     |  | int16=3 | int64  | int32 = -1  | str      | int64 ms   |
//	  +---------+-------+-------+-----------+  +---------+--------+-------------+----------+------------+
//
//	group record
//	  key   (GroupMetadataKey v2)     value (GroupMetadataValue v3); nil: deleted
//	  +---------+-------+             +---------+--------------+------------+
//	  | version | group |             | version | protocolType | generation |
//	  | int16=2 | str   |             | int16=3 | str          | int32      |
//	  +---------+-------+             +---------+--------------+------------+
//	                                  | protocol | leader   | stateTime   | members  |
//	                                  | str/null | str/null | int64 ms/-1 | [member] |
//	                                  +----------+----------+-------------+----------+
//	  member: memberId str, groupInstanceId str/null, clientId str, clientHost str,
//	          rebalanceTimeout int32 ms, sessionTimeout int32 ms, subscription bytes, assignment bytes
//
// A group record is written whenever a group changes state; a restarted
// coordinator reads from it the group's generation (which it continues) and, for an
// empty group, since when it is empty (for retention). Members are not restored:
// they join again. Earlier versions of both values (0 to 3) are read as well.
//
// The consumer protocol's metadata and assignments (what members and the leader
// exchange through JoinGroup and SyncGroup, opaque to the coordinator but decoded
// by Describe) are Kafka's too:
//
//	subscription (ConsumerProtocolSubscription v2)
//	  version int16=2 | topics [str] | userData bytes/null | ownedPartitions [topic str, [int32]] | generation int32
//	assignment (ConsumerProtocolAssignment)
//	  version int16 | assignedPartitions [topic str, [int32]] | userData bytes/null
//	sticky assignor user data (StickyAssignorUserData v1)
//	  previousAssignment [topic str, [int32]] | generation int32
//
// # Concurrency and ownership
//
// A Coordinator is safe for concurrent use. Its lock (mu) is never held while it
// calls a response callback, the offset store or Metadata, so all of them may call
// back into the coordinator; callbacks run on the goroutine of the call that
// completed the wait and must not block. Commits, fetches, expiry and group records
// of one group are serialized by that group's lock, taken before mu (lock order: a
// group's lock, then mu); a commit holds it across its validation and its write, so
// a commit accepted for a generation is in the log before any commit of a later
// generation is validated, and a fetch sees every commit acknowledged before it.
// Writes of different groups run concurrently and share fsyncs. Transactional
// commits and markers of a PartitionOffsetStore are serialized among themselves,
// each from its append to its change of the offsets (lock order: a group's lock,
// then the store's transaction lock), so that markers meet pending offsets in
// log order.
//
// A Member is safe for concurrent use; its Join and Leave run one at a time, and
// its callbacks run on the goroutine calling Join, Heartbeat, Leave or Run. The
// coordinator keeps the byte slices of requests (protocol metadata, assignments);
// callers must not modify them afterwards. Returned slices and maps are the
// caller's. The caller owns the OffsetStore and the Metadata: Close closes neither.
//
// # Wiring into a store
//
// The log package provides the Metadata (partition counts and high watermarks of
// its topics), opens the internal topic __consumer_offsets (one partition,
// compacted once compaction exists, never deleted by retention) and hands it to
// NewPartitionOffsetStore, calls NotifyMetadataChanged after every topic change and
// DeleteTopicOffsets when it deletes a topic, starts the coordinator, and closes it
// before its partitions.
package group
