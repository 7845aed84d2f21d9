// Package replica replicates partitions across brokers in one process, with
// Kafka's replication protocol: leaders and followers, the in-sync replicas (ISR),
// the high watermark, leader epochs and failover.
//
// # The model
//
// A broker is a directory of a store, in practice one disk, with an id
// (BrokerID). A partition has replicas on several brokers; the controller
// (Controller, and its in-process implementation LocalController) decides which
// replica leads and which are in sync, and keeps that State durable. A Cluster
// opens the replicas of every broker, applies the controller's decisions to them,
// and runs the followers' fetch loops.
//
//	       produce (acks)                 consume (below the high watermark)
//	             |                                   ^
//	             v                                   |
//	broker 1  [ leader ]  <--- fetch ---  [ follower ]  broker 2
//	              ^
//	              +---------- fetch ---  [ follower ]  broker 0
//
// Followers pull: each fetches from the leader what follows its log end offset,
// exactly as on the leader's disk, and appends it keeping the leader's offsets and
// leader epochs (partition.AppendReplica), so that the replicas of a partition hold
// the same bytes. Each fetch also tells the leader how far the follower's log is
// durable.
//
// # The high watermark and acks
//
// The leader sets the high watermark to the lowest offset that every ISR member
// holds durably: its own acknowledged offset (fsynced under the partition's sync
// policy) and each follower's durable offset. Kafka counts a follower's log end
// offset; strata counts what the follower has fsynced, Raft's persist-before-ack,
// so that under SyncEveryAppend a power loss of every replica at once loses nothing
// acknowledged (under SyncPeriodic and SyncNone a log acknowledges what it wrote to
// the OS: the high watermark is then Kafka's, and so is what a power loss takes).
// The high watermark advances only while the ISR has at least MinInsyncReplicas
// members (KIP-966's strict rule), and never moves back. Readers of the leader's log see only
// what lies below it (partition.Options.Replicated), so no reader sees a record that
// a failover can take away.
//
// Acks says when a produce returns: AcksAll once the high watermark covers the
// records (failing at once with ErrNotEnoughReplicas while the ISR is below
// MinInsyncReplicas), AcksLeader once the leader wrote them, AcksNone at once. With
// one replica, AcksAll is the leader's own fsync: a one-broker store behaves exactly
// as an unreplicated one.
//
// # The ISR
//
// A follower that has not fetched everything the leader had written for
// ClusterOptions.ReplicaLagTime leaves the ISR (the leader asks the controller,
// Controller.AlterISR); one that holds, durably, everything below the high watermark
// joins it again. While a join is being decided the high watermark already counts
// the joining follower (Kafka's maximal ISR), so it never passes what the follower
// holds. A broker known to be offline (stopped, crashed, its disk failed) leaves
// every ISR at once. A fetch carries its broker's epoch, which grows at each start
// of the broker: a request of a former incarnation, delayed on the way, makes no
// follower join (ErrStaleBrokerEpoch, KIP-903), since a power loss may have taken
// what it said was durable.
//
// # Leader epochs, and why a follower never truncates at its high watermark
//
// Every change of leader bumps the partition's leader epoch. The leader stamps its
// epoch in each batch it writes and records, in each replica's
// leader-epoch-checkpoint, where each epoch began. A follower's fetch carries the
// epoch of its last batch; if that epoch ends earlier on the leader than the
// follower's log (the follower holds a tail the leader never had, or lost), the
// leader answers with the end of that epoch (EpochEnd, KIP-595's DivergingEpoch) and
// the follower truncates there, walking back epoch by epoch until the logs agree
// (KIP-101, KIP-279). Truncating at the high watermark instead, as Kafka did before
// KIP-101, loses acknowledged records. Every request carries the leader epoch the
// sender believes current, and a stale one is refused (ErrFencedLeaderEpoch,
// KIP-320).
//
// # Elections
//
// When a leader goes offline the controller elects, in assignment order, the first
// online replica of the ISR; failing that, of the eligible leader replicas (ELR,
// KIP-966: replicas that left the ISR while it was below MinInsyncReplicas, when the
// high watermark could no longer move, and so still hold every committed record);
// failing that, with Config.UncleanLeaderElection, any online replica, losing
// whatever it lacks, acknowledged records included. Without it the partition waits,
// leaderless (ErrNoLeader), for a replica that holds everything. ElectPreferred puts
// leadership back on each partition's first replica.
//
// Under SyncEveryAppend an ELR member that crashes keeps its eligibility: it
// acknowledged only what it had fsynced. Under SyncPeriodic and SyncNone it
// acknowledged what it wrote to the OS, and a power loss may take committed records
// from it: a replica that comes back from an unclean shutdown then leaves the ELR
// (Controller.LeaveELR, KIP-966), unless it is the last replica that may lead.
//
// A leader elected cleanly starts its high watermark where the partition's
// earlier leaders left it (Cluster.Committed; a store passes what it recorded with
// SetCommitted at Open), clamped to what it holds, so that readers never see the
// high watermark go back at a failover; an unclean election marks the state
// LeaderRecovering (Kafka's LeaderRecoveryState) and starts a new history.
//
// # Reassignment and rebuilding
//
// Reassign moves a partition's replicas to other brokers (KIP-455): the new
// replicas join at once as followers and copy the leader; once every target
// replica is in sync the others leave, with the leadership if it was theirs, and
// their files are removed (ClusterOptions.RemoveLog). A replica found corrupt while
// serving (a follower copying a batch that fails its CRC reports its leader's copy; a
// reader reports the replica it read) is rebuilt when another replica is in sync
// (RebuildReplica): it leaves the ISR and the ELR, gives up its leadership, its files
// are set aside (ClusterOptions.SetAside) and it copies its leader again.
//
// # Transactions
//
// Producer state and transaction markers replicate with the log: a follower
// copies the leader's batches, producer ids, epochs and sequences included, and
// its partition tracks each producer's sequences and open transaction from them
// (partition.AppendReplica), so that a new leader answers a producer's retry of a
// batch it copied as a duplicate (ProduceWith), and knows which transactions are
// open. A transaction coordinator writes COMMIT and ABORT markers through the
// leader with AppendTxnMarker, acknowledged once the high watermark covers them;
// it retries a marker whose outcome is unknown on the next leader, where a marker
// for a transaction already ended is written again and ends nothing. The last
// stable offset (partition.LastStableOffset) is at most the high watermark on
// every replica, and a marker decides its transaction only once the high
// watermark covers it: one that a failover may still take away decides nothing,
// on the leader that wrote it or on a replica that restarts with it.
//
// # Concurrency
//
// A Cluster and its Partitions and Replicas are safe for concurrent use. The
// protocol is plain code driven by a few entry points (a follower's fetch round, a
// leader's ISR check, the application of a State), which the Cluster runs on its own
// goroutines, or which a test drives one step at a time (ClusterOptions.Manual):
// the package's deterministic simulation runs thousands of seeded schedules of
// produces, fetches, crashes, disk failures, cut links and elections that way, and
// checks that no acknowledged record is lost, no consumed record disappears, high
// watermarks and epochs never go back and replicas converge byte for byte; it
// reassigns partitions and changes their configuration too, and runs one schedule
// in four under SyncNone, where a power loss takes what was not fsynced.
//
// # Usage
//
//	c, err := replica.NewCluster(replica.ClusterOptions{OpenLog: openLog})
//	for _, b := range []replica.BrokerID{0, 1, 2} {
//		err = c.StartBroker(b)
//	}
//	p, err := c.CreatePartition("orders-0", []replica.BrokerID{1, 2, 0}, replica.Config{MinInsyncReplicas: 2})
//	offset, err := p.Produce(ctx, records, replica.AcksAll)
//	leader, err := p.Leader() // read leader.Log() below its high watermark
//
// Replication between machines is not part of this package: Transport is the seam
// where it would go, and Network its in-process implementation.
package replica
