package group

// The byte formats of this package, all Kafka's own (non-flexible versions, integers
// big-endian, a string an int16 length then UTF-8 bytes, nullable with length -1,
// bytes an int32 length then the bytes, an array an int32 count then its elements).
// doc.go draws them; these constants are format: changing one changes what is on
// disk or on the wire.
const (
	// OffsetsTopic is the name of the internal compacted topic that holds committed
	// offsets and group records, as in Kafka.
	OffsetsTopic = "__consumer_offsets"

	// offsetCommitKeyVersion is the version written in the key of an offset commit
	// record (Kafka's OffsetCommitKey v1; v0 is read too: the same layout).
	offsetCommitKeyVersion int16 = 1
	// groupMetadataKeyVersion is the version of a group record's key (Kafka's
	// GroupMetadataKey, always v2).
	groupMetadataKeyVersion int16 = 2
	// offsetCommitValueVersion is the version of an offset commit value written
	// (Kafka's OffsetCommitValue v3: offset, leader epoch, metadata, commit time).
	// Versions 0 to 3 are read.
	offsetCommitValueVersion int16 = 3
	// groupMetadataValueVersion is the version of a group record's value written
	// (Kafka's GroupMetadataValue v3). Versions 0 to 3 are read.
	groupMetadataValueVersion int16 = 3

	// subscriptionVersion is the version of the consumer protocol subscription
	// written (Kafka's ConsumerProtocolSubscription v2: topics, user data, owned
	// partitions, generation). Any version from 0 is read; fields of versions above
	// 3 are ignored, as Kafka's readers do.
	subscriptionVersion int16 = 2
	// assignmentVersion is the version of the consumer protocol assignment written
	// (Kafka's ConsumerProtocolAssignment; every version has the same fields).
	assignmentVersion int16 = 2
	// stickyUserDataVersion is the layout of the sticky assignor's user data: its
	// previous assignment and generation (Kafka's StickyAssignorUserData v1, which
	// carries no version field of its own).
	stickyUserDataVersion = 1

	// noLeaderEpoch is the leader epoch written with commits: strata's commits carry
	// none (Kafka's -1).
	noLeaderEpoch int32 = -1
	// txnCommitBaseSequence is the base sequence of the batch of a transactional
	// offset commit: Kafka's group coordinator writes 0, whatever the producer's
	// sequences, and the offsets partition does not check it.
	txnCommitBaseSequence int32 = 0
	// noGeneration is the generation of a member that has none yet, and of commits
	// from consumers outside any group (Kafka's -1).
	noGeneration int32 = -1

	// MaxNameBytes is the longest group id, member id, instance id, client id or
	// topic name this package accepts: the largest length of a Kafka string.
	MaxNameBytes = 1<<15 - 1
)
