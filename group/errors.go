package group

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
)

// Errors returned by the coordinator, its members and the offset stores. Check them
// with errors.Is: returned errors may wrap them with context. Most match one of
// Kafka's group error codes, named in each comment, so that a Kafka-protocol
// listener can translate them one to one.
var (
	// ErrUnknownMemberID is returned for a member id the group does not know: the
	// member left, was removed after its session timed out or it missed a
	// rebalance, or never joined. The member has lost its partitions and must join
	// again with an empty member id. (UNKNOWN_MEMBER_ID)
	ErrUnknownMemberID = errors.New("strata/group: unknown member id")
	// ErrIllegalGeneration is returned for a call made with a generation other than
	// the group's current one: a member fenced out by a rebalance (a zombie), whose
	// commits must never overwrite those of the member that took its partitions
	// over. (ILLEGAL_GENERATION)
	ErrIllegalGeneration = errors.New("strata/group: illegal generation")
	// ErrRebalanceInProgress is returned by Heartbeat while the group rebalances,
	// by SyncGroup when a new rebalance started before the assignment was handed
	// out, and by CommitOffsets while the group waits for its leader's assignment.
	// The member must (re)join. (REBALANCE_IN_PROGRESS)
	ErrRebalanceInProgress = errors.New("strata/group: rebalance in progress")
	// ErrGroupNotFound is returned by Describe and DeleteGroup for a group that has
	// neither members nor committed offsets. (GROUP_ID_NOT_FOUND)
	ErrGroupNotFound = errors.New("strata/group: group not found")
	// ErrInconsistentProtocol is returned by JoinGroup when the member's protocol
	// type differs from the group's, or when it supports none of the protocols
	// (assignors) that every current member supports; and by SyncGroup for a
	// protocol other than the one selected. (INCONSISTENT_GROUP_PROTOCOL)
	ErrInconsistentProtocol = errors.New("strata/group: inconsistent group protocol")
	// ErrFencedInstanceID is returned to a static member whose group instance id was
	// taken over by a newer member with the same instance id. (FENCED_INSTANCE_ID)
	ErrFencedInstanceID = errors.New("strata/group: fenced instance id")
	// ErrMemberIDRequired is returned by JoinGroup to a dynamic member that joins
	// with no member id and asks for the member-id handshake
	// (JoinRequest.RequireMemberID, Kafka's KIP-394): the JoinResponse carries the
	// id the coordinator gave it, and the member joins again with that id. Until it
	// does, the id is pending, not a member: a member that gives up its join in
	// between leaves nothing in the group. (MEMBER_ID_REQUIRED)
	ErrMemberIDRequired = errors.New("strata/group: member id required")
	// ErrNonEmptyGroup is returned by DeleteGroup for a group that still has
	// members, and by DeleteOffsets for a group of a protocol type other than
	// ProtocolTypeConsumer that has members. (NON_EMPTY_GROUP)
	ErrNonEmptyGroup = errors.New("strata/group: group is not empty")
	// ErrGroupSubscribedToTopic is DeleteOffsets' outcome for a partition of a
	// topic that members of the group subscribe to: its offsets stay.
	// (GROUP_SUBSCRIBED_TO_TOPIC)
	ErrGroupSubscribedToTopic = errors.New("strata/group: group is subscribed to the topic")
	// ErrCoordinatorClosed is returned by every call on a closed Coordinator, and to
	// every join or sync still waiting when it closed. It matches ErrClosed too.
	// (COORDINATOR_NOT_AVAILABLE)
	ErrCoordinatorClosed error = errs.Also("strata/group: coordinator closed", errs.ErrClosed)
	// ErrInvalidGroupID is returned for an empty group id or one longer than
	// MaxNameBytes. It matches ErrInvalidArgument too. (INVALID_GROUP_ID)
	ErrInvalidGroupID error = errs.Also("strata/group: invalid group id", errs.ErrInvalidArgument)
	// ErrInvalidSessionTimeout is returned by JoinGroup for a session timeout outside
	// [Options.MinSessionTimeout, Options.MaxSessionTimeout]. It matches
	// ErrInvalidArgument too. (INVALID_SESSION_TIMEOUT)
	ErrInvalidSessionTimeout error = errs.Also("strata/group: invalid session timeout", errs.ErrInvalidArgument)
	// ErrOffsetMetadataTooLarge is returned by CommitOffsets when a metadata string
	// exceeds Options.MaxOffsetMetadataBytes; nothing is committed. It matches
	// ErrInvalidArgument too. (OFFSET_METADATA_TOO_LARGE)
	ErrOffsetMetadataTooLarge error = errs.Also("strata/group: offset metadata too large", errs.ErrInvalidArgument)
	// ErrUnstableOffsetCommit is returned by FetchStableOffsets for partitions
	// whose offsets a transaction has committed but not ended yet (KIP-447): the
	// consumer retries. (UNSTABLE_OFFSET_COMMIT)
	ErrUnstableOffsetCommit = errors.New("strata/group: unstable offset commit")

	// ErrInvalidArgument is returned for malformed input (an empty protocol list, a
	// negative offset, invalid options); nothing changes. It is the same value in
	// every strata package.
	ErrInvalidArgument = errs.ErrInvalidArgument
	// ErrClosed is the error every closed strata object returns; ErrCoordinatorClosed
	// matches it.
	ErrClosed = errs.ErrClosed
	// ErrCorrupt is wrapped by every error about undecodable bytes in the offsets
	// log; such errors are *CorruptError values naming the file and offset.
	ErrCorrupt = errs.ErrCorrupt
)

// CorruptError reports invalid bytes on disk: the file, the position and why.
type CorruptError = errs.CorruptError

// errorf is fmt.Errorf for the package's errors: their text says "strata/group: "
// once, however many of the package's own errors it wraps (see errs.Errorf).
func errorf(format string, args ...any) error { return errs.Errorf(format, args...) }
