package replica

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
)

// Errors of the replica layer, checked with errors.Is. Their names follow Kafka's
// error codes.
var (
	// ErrNotLeader is returned by a replica asked to do what only the leader does
	// (Kafka's NOT_LEADER_OR_FOLLOWER): produce to it, or fetch from it as a
	// follower. The caller looks up the leader again and retries there.
	ErrNotLeader = errors.New("strata/replica: not the leader")
	// ErrNoLeader is returned for a partition that has no leader: every replica
	// that may lead is offline (Kafka's LEADER_NOT_AVAILABLE).
	ErrNoLeader = errors.New("strata/replica: no leader")
	// ErrNotEnoughReplicas refuses an acks=all produce while the in-sync replicas
	// are fewer than min.insync.replicas (Kafka's NOT_ENOUGH_REPLICAS); nothing is
	// written.
	ErrNotEnoughReplicas = errors.New("strata/replica: not enough in-sync replicas")
	// ErrNotEnoughReplicasAfterAppend is returned by an acks=all produce whose
	// records were written but whose in-sync replicas fell below
	// min.insync.replicas before they were all acknowledged (Kafka's
	// NOT_ENOUGH_REPLICAS_AFTER_APPEND): the records may or may not become part of
	// the log.
	ErrNotEnoughReplicasAfterAppend = errors.New("strata/replica: in-sync replicas fell below min.insync.replicas after the append")
	// ErrFencedLeaderEpoch refuses a request that carries a leader epoch older
	// than the replica's (KIP-320's FENCED_LEADER_EPOCH): the sender is behind.
	ErrFencedLeaderEpoch = errors.New("strata/replica: fenced leader epoch")
	// ErrUnknownLeaderEpoch refuses a request that carries a leader epoch newer
	// than the replica's (UNKNOWN_LEADER_EPOCH): the replica is behind; retry.
	ErrUnknownLeaderEpoch = errors.New("strata/replica: unknown leader epoch")
	// ErrStaleState refuses a change of a partition's state (an ISR change asked by
	// a leader) made against an older state than the controller's (Kafka's
	// INVALID_UPDATE_VERSION).
	ErrStaleState = errors.New("strata/replica: stale partition state")
	// ErrStaleBrokerEpoch refuses a follower's fetch sent by a former
	// incarnation of its broker, started again since (Kafka's STALE_BROKER_EPOCH,
	// KIP-903): what it says of the follower's log may no longer hold.
	ErrStaleBrokerEpoch = errors.New("strata/replica: stale broker epoch")
	// ErrOutcomeUnknown is joined to the error of an acks=all produce whose records
	// were written by the leader but not acknowledged (the leadership moved, the
	// ISR fell below min.insync.replicas, the replica closed or ctx ended while it
	// waited): they may or may not become part of the log, and a retry may write
	// them twice (an idempotent producer, a later issue, will not).
	ErrOutcomeUnknown = errs.ErrOutcomeUnknown
	// ErrUnknownPartition names a partition the controller does not know.
	ErrUnknownPartition = errors.New("strata/replica: unknown partition")
	// ErrUnknownBroker names a broker the cluster does not have.
	ErrUnknownBroker = errors.New("strata/replica: unknown broker")
	// ErrBrokerOffline is returned for a request to a broker that is stopped or
	// whose disk failed, and by a transport whose link is cut.
	ErrBrokerOffline = errors.New("strata/replica: broker offline")

	// ErrClosed is returned once the cluster or the replica is closed.
	ErrClosed = errs.ErrClosed
	// ErrInvalidArgument is returned for bad input from the caller; nothing changed.
	ErrInvalidArgument = errs.ErrInvalidArgument
)

// errorf is fmt.Errorf for the package's errors: their text says "strata/replica: "
// once, however many of the package's own errors it wraps (see errs.Errorf).
func errorf(format string, args ...any) error { return errs.Errorf(format, args...) }
