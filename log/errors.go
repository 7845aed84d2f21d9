package log

import (
	"errors"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/segment"
)

// Errors returned by the store. Check them with errors.Is: the returned errors wrap
// them with context (the topic, the partition, every invalid field). ErrClosed,
// ErrOffsetOutOfRange, ErrRecordTooLarge, ErrInvalidArgument and ErrCorrupt are the
// same values in every strata package, so an error from a partition matches them too.
var (
	// ErrTopicExists is returned by CreateTopic for a name already in use.
	ErrTopicExists = errors.New("strata/log: topic already exists")
	// ErrUnknownTopic is returned for a topic that does not exist, or that was
	// deleted while a producer or consumer was using it.
	ErrUnknownTopic = errors.New("strata/log: unknown topic")
	// ErrUnknownTopicID is returned by TopicByID for an ID no topic of the store has
	// (Kafka's UNKNOWN_TOPIC_ID). It also matches ErrUnknownTopic.
	ErrUnknownTopicID error = errs.Also("strata/log: unknown topic ID", ErrUnknownTopic)
	// ErrUnknownPartition is returned for a partition number outside the topic's
	// partitions (an explicit partition, a partitioner's answer, an assignment), and
	// for a consumer call on a partition it is not assigned.
	ErrUnknownPartition = errors.New("strata/log: unknown partition")
	// ErrInvalidTopicName is returned for a name that breaks Kafka's rules (see
	// ValidateTopicName), and for a name reserved for internal topics ("__" prefix).
	ErrInvalidTopicName = errors.New("strata/log: invalid topic name")
	// ErrTopicCollision is matched by a *TopicCollisionError: CreateTopic of a name
	// that differs from an existing topic's only in case or in '.' and '_'.
	ErrTopicCollision = errors.New("strata/log: topic name collides with an existing topic's")
	// ErrInvalidConfig is returned for an invalid TopicConfig or Options; the error
	// names every invalid field. It also matches ErrInvalidArgument.
	ErrInvalidConfig = errors.New("strata/log: invalid config")
	// ErrInternalTopic is returned for a write a user asks of an internal topic
	// (such as OffsetsTopic): Produce, a Producer, DeleteRecords, AddPartitions,
	// DeleteTopic (which also matches ErrInvalidTopicName, as it did before).
	// Only the store writes its internal topics. It also matches
	// ErrInvalidArgument; nothing is written.
	ErrInternalTopic error = errs.Also("strata/log: internal topics are written only by the store", partition.ErrInvalidArgument)
	// ErrPartitionOffline is matched by the errors of every call on an offline
	// partition: one that Open could not open (corrupt, its directory missing or a
	// symlink, an I/O error) while the rest of the store opened. The error is a
	// *PartitionOfflineError naming the partition and wrapping why, so that
	// errors.Is(err, ErrCorrupt) also holds for a corrupt one. See
	// Store.OfflinePartitions.
	ErrPartitionOffline = errors.New("strata/log: partition offline")
	// ErrPartitionDirExists is returned by CreateTopic and AddPartitions when the
	// directory a new partition needs already exists and strata did not mark it as
	// its own (a user's directory, or the partition of a topic topics.json does not
	// list): strata never deletes what it did not mark, so move it away first.
	ErrPartitionDirExists = errors.New("strata/log: an unlisted directory has the new partition's name")
	// ErrLocked is returned by Open when another Store, in this process or another,
	// has the directory open.
	ErrLocked = errors.New("strata/log: data directory is locked by another store")

	// ErrSeveralBrokers is returned by what only a one-broker store offers yet
	// (Scrub and Repair of a closed store): open the store and use Store.Verify.
	ErrSeveralBrokers = errors.New("strata/log: not available for a store of several brokers")

	// ErrBrokerOffline is matched by a *BrokerOfflineError: a broker whose directory
	// cannot serve, for one of the reasons below (or a CorruptError, or an I/O
	// error), while the rest of the store may.
	ErrBrokerOffline = errors.New("strata/log: broker offline")
	// ErrBrokerDirMissing: a broker's directory does not exist (a disk that is not
	// mounted). Nothing is created in its place.
	ErrBrokerDirMissing = errors.New("strata/log: broker directory missing")
	// ErrBrokerDirEmpty: a broker's directory exists but holds no meta.properties:
	// empty (a replaced disk) or never formatted as a broker directory. It is never
	// taken for the broker having lost its data.
	ErrBrokerDirEmpty = errors.New("strata/log: broker directory empty or without meta.properties")
	// ErrBrokerDirForeign: a broker directory's meta.properties names another store
	// (cluster.id), another broker (node.id), or another directory of this broker
	// (directory.id: formatted again since the store recorded it); or the directory
	// a store is opened from is not where the store's brokers.json places it.
	ErrBrokerDirForeign = errors.New("strata/log: broker directory belongs to another store or broker")
	// ErrStoreExists is returned by InitBrokers for a root directory that already
	// holds a store (topics.json, partition directories, meta.properties). Nothing
	// is written.
	ErrStoreExists = errors.New("strata/log: directory already holds a store")
	// ErrBrokerDirNotEmpty is returned by InitBrokers for a broker directory other
	// than the root that holds anything but lost+found and what an interrupted
	// InitBrokers of the same root left. Nothing is written.
	ErrBrokerDirNotEmpty = errors.New("strata/log: broker directory not empty")

	// ErrNotLeader is matched by a *NotLeaderError: a broker asked to serve a
	// partition it does not lead (Kafka's NOT_LEADER_OR_FOLLOWER): see
	// Store.Broker.
	ErrNotLeader = replica.ErrNotLeader
	// ErrUnsupportedCompression refuses a client's batch compressed with a codec
	// that Kafka defines and strata cannot read (lz4): Kafka's
	// UNSUPPORTED_COMPRESSION_TYPE. Nothing is written. It also matches
	// ErrInvalidArgument.
	ErrUnsupportedCompression error = errs.Also("strata/log: unsupported compression codec", errors.Join(segment.ErrUnsupportedCompression, partition.ErrInvalidArgument))
	// ErrInvalidBatch refuses a client's batch that Kafka's LogValidator refuses
	// (Kafka's INVALID_RECORD): a header that does not parse or is not magic 2, a
	// record count that does not fill its offset range, records that do not decode
	// (a compressed payload that does not decompress, offset deltas out of order),
	// a control batch, a record without a key for a compacted topic. Nothing is
	// written. It also matches ErrInvalidArgument, never ErrCorrupt (which is about
	// the store's own bytes).
	ErrInvalidBatch error = errs.Also("strata/log: invalid record batch", partition.ErrInvalidArgument)
	// ErrBatchChecksum refuses a client's batch whose CRC-32C does not match its
	// bytes (Kafka's CORRUPT_MESSAGE). Nothing is written. It also matches
	// ErrInvalidArgument, never ErrCorrupt.
	ErrBatchChecksum error = errs.Also("strata/log: record batch fails its checksum", partition.ErrInvalidArgument)

	// ErrClosed is returned by every call on a closed Store, Producer or Consumer.
	ErrClosed = partition.ErrClosed
	// ErrOffsetOutOfRange is returned by a Consumer whose position is outside the
	// partition's records and whose Reset policy is ResetNone, and by DeleteRecords
	// for an offset above the end offset.
	ErrOffsetOutOfRange = partition.ErrOffsetOutOfRange
	// ErrRecordTooLarge is returned for a record that does not fit in a batch of the
	// topic's MaxBatchBytes; it is not written.
	ErrRecordTooLarge = partition.ErrRecordTooLarge
	// ErrInvalidArgument is returned for malformed input, such as a nil record or a
	// Poll with no assignment; nothing changes.
	ErrInvalidArgument = partition.ErrInvalidArgument
	// ErrCorrupt is wrapped by errors about invalid bytes on disk, including a
	// metadata file that cannot be decoded.
	ErrCorrupt = partition.ErrCorrupt
	// ErrOutcomeUnknown is joined to the error of a produce whose records were
	// written but not acknowledged (the partition's fsync failed, the partition
	// closed, the leadership moved while it waited): they may or may not be in the
	// log. A non-idempotent producer does not retry them, since a retry could write
	// them twice; an idempotent Producer retries them, and the partition answers a
	// copy that made it with the original's offset.
	ErrOutcomeUnknown = partition.ErrOutcomeUnknown
)

// errorf is fmt.Errorf for the package's errors: their text says "strata/log: "
// once, however many of the package's own errors it wraps (see errs.Errorf).
func errorf(format string, args ...any) error { return errs.Errorf(format, args...) }
