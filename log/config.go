package log

import (
	"fmt"
	"strings"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// Unlimited, as TopicConfig.RetentionBytes or RetentionAge, keeps records forever
// (Kafka's -1). It is untyped, so it serves both fields.
const Unlimited = -1

// Cleanup policies (Kafka's cleanup.policy).
const (
	// CleanupDelete deletes whole old segments by RetentionBytes and RetentionAge.
	CleanupDelete = "delete"
	// CleanupCompact keeps the latest record of each key (log compaction, see
	// partition.Partition.Compact): sealed segments are rewritten without the records
	// a later record of the same key supersedes, and tombstones (records with a nil
	// Value) are removed DeleteRetention after compaction first saw them. Retention by
	// bytes and age does not apply. Records without a key are kept as they are.
	CleanupCompact = "compact"
	// CleanupCompactDelete is both: compaction, and retention deleting whole old
	// segments by RetentionBytes and RetentionAge. "delete,compact" means the same.
	CleanupCompactDelete = "compact,delete"
)

// Compression codecs (Kafka's compression.type). lz4 is not supported.
const (
	CompressionNone   = "none"
	CompressionGzip   = "gzip"
	CompressionSnappy = "snappy"
	CompressionZstd   = "zstd"
)

// Built-in defaults: what a TopicConfig field left at zero means when the store's
// TopicDefaults leave it at zero too. Retention defaults to Unlimited.
const (
	DefaultPartitions    = 1
	DefaultSegmentBytes  = partition.DefaultSegmentBytes // 1 GiB, Kafka's segment.bytes
	DefaultSegmentAge    = partition.DefaultSegmentAge   // 7 days, Kafka's segment.ms
	DefaultMaxBatchBytes = segment.DefaultMaxBatchBytes  // 1 MiB, Kafka's message.max.bytes
	DefaultCompression   = CompressionNone
	DefaultCleanupPolicy = CleanupDelete

	DefaultDeleteRetention        = partition.DefaultDeleteRetention        // 24 h, Kafka's delete.retention.ms
	DefaultMinCleanableDirtyRatio = partition.DefaultMinCleanableDirtyRatio // 0.5, Kafka's min.cleanable.dirty.ratio

	DefaultReplicationFactor = 1 // Kafka's default.replication.factor
	DefaultMinInsyncReplicas = 1 // Kafka's min.insync.replicas
)

// Limits of TopicConfig fields.
const (
	maxReplicationFactor = 255
	maxMaxBatchBytes     = int(segment.MaxSegmentBytes)   // a batch must fit in a segment
	maxSegmentBytes      = int64(segment.MaxSegmentBytes) // relative positions are 32-bit
)

// TopicConfig is a topic's configuration. Every field's zero value means "inherit":
// a topic takes the value of the store's Options.TopicDefaults, and a zero there
// takes the built-in default (the Default... constants; retention Unlimited).
//
// The store keeps each topic's own settings (its non-zero fields) in its metadata, so
// a topic keeps inheriting the store defaults in force at each Open, as Kafka topics
// follow the broker's defaults except where overridden.
type TopicConfig struct {
	// Partitions is the number of partitions CreateTopic creates. Default 1, at most
	// MaxPartitions. AddPartitions adds more later; there is no way to remove some.
	Partitions int
	// Sync is the durability policy of appends. Default SyncEveryAppend.
	Sync SyncPolicy
	// SegmentBytes rolls a partition's active segment before it would exceed this
	// size. Default 1 GiB; at most 2 GiB - 1.
	SegmentBytes int64
	// SegmentAge rolls the active segment once its first record is this old.
	// Default 7 days.
	SegmentAge time.Duration
	// RetentionBytes deletes a partition's oldest sealed segments while the rest
	// would still hold at least this many bytes. Default Unlimited.
	RetentionBytes int64
	// RetentionAge deletes sealed segments whose newest record is older than this.
	// Default Unlimited.
	RetentionAge time.Duration
	// Compression is the codec of the batches producers write: CompressionNone,
	// CompressionGzip, CompressionSnappy or CompressionZstd. Default none.
	Compression string
	// MaxBatchBytes is the largest batch, and so the largest record, a partition
	// accepts. Default 1 MiB; at least 61 (a batch header).
	MaxBatchBytes int
	// CleanupPolicy is CleanupDelete (the default), CleanupCompact or
	// CleanupCompactDelete.
	CleanupPolicy string
	// DeleteRetention is how long compaction keeps a tombstone after it first saw it
	// (Kafka's delete.retention.ms), so that consumers reading from the start see the
	// deletion. Default 24 hours; Unlimited keeps tombstones forever.
	DeleteRetention time.Duration
	// MinCleanableDirtyRatio is the share of a partition's cleanable bytes that must
	// be dirty (not compacted yet) before the store compacts it (Kafka's
	// min.cleanable.dirty.ratio). Default 0.5; in (0, 1].
	MinCleanableDirtyRatio float64
	// MinCompactionLag keeps records out of compaction until they are this old
	// (Kafka's min.compaction.lag.ms; whole segments, by their newest record).
	// Default 0.
	MinCompactionLag time.Duration
	// ReplicationFactor is how many brokers hold a replica of each partition
	// (Kafka's replication.factor), at most the store's brokers; fixed at
	// CreateTopic. Default 1 (Kafka's default.replication.factor).
	ReplicationFactor int
	// MinInsyncReplicas is how many in-sync replicas an AcksAll produce needs
	// (Kafka's min.insync.replicas): below it, it fails with
	// ErrNotEnoughReplicas, and records stop becoming readable. Default 1; at most
	// ReplicationFactor.
	MinInsyncReplicas int
	// UncleanLeaderElection lets a replica that is not in sync lead when no in-sync
	// one is online (Kafka's unclean.leader.election.enable), which loses whatever
	// records it lacks, acknowledged ones included, rather than leave the partition
	// without a leader. Default false (true here or in TopicDefaults turns it on).
	UncleanLeaderElection bool
}

// builtinDefaults is what a zero field resolves to when the store's defaults leave it
// at zero too.
var builtinDefaults = TopicConfig{
	Partitions:     DefaultPartitions,
	Sync:           SyncPolicy{Mode: SyncEveryAppend},
	SegmentBytes:   DefaultSegmentBytes,
	SegmentAge:     DefaultSegmentAge,
	RetentionBytes: Unlimited,
	RetentionAge:   Unlimited,
	Compression:    DefaultCompression,
	MaxBatchBytes:  DefaultMaxBatchBytes,
	CleanupPolicy:  DefaultCleanupPolicy,

	DeleteRetention:        DefaultDeleteRetention,
	MinCleanableDirtyRatio: DefaultMinCleanableDirtyRatio,
	ReplicationFactor:      DefaultReplicationFactor,
	MinInsyncReplicas:      DefaultMinInsyncReplicas,
}

// problems returns a description of every invalid field, each starting with the
// field's name after prefix ("" or "TopicDefaults.").
func (c TopicConfig) problems(prefix string) []string {
	var out []string
	bad := func(field, format string, args ...any) {
		out = append(out, prefix+field+": "+fmt.Sprintf(format, args...))
	}
	if c.Partitions < 0 || c.Partitions > MaxPartitions {
		bad("Partitions", "%d not in [1, %d] (0: default)", c.Partitions, MaxPartitions)
	}
	out = syncPolicyProblems(c.Sync, out, prefix+"Sync")
	if c.SegmentBytes < 0 || c.SegmentBytes > maxSegmentBytes {
		bad("SegmentBytes", "%d not in [1, %d] (0: default)", c.SegmentBytes, maxSegmentBytes)
	}
	if c.SegmentAge < 0 {
		bad("SegmentAge", "%v is negative", c.SegmentAge)
	}
	if c.RetentionBytes < Unlimited {
		bad("RetentionBytes", "%d: want a positive limit, Unlimited (-1) or 0 (default)", c.RetentionBytes)
	}
	if c.RetentionAge < Unlimited {
		bad("RetentionAge", "%v: want a positive limit, Unlimited (-1) or 0 (default)", c.RetentionAge)
	}
	if c.Compression != "" {
		if _, err := parseCompression(c.Compression); err != nil {
			bad("Compression", "%q: want none, gzip, snappy or zstd", c.Compression)
		}
	}
	if c.MaxBatchBytes < 0 || c.MaxBatchBytes > maxMaxBatchBytes || (c.MaxBatchBytes > 0 && c.MaxBatchBytes < segment.BatchHeaderSize) {
		bad("MaxBatchBytes", "%d not in [%d, %d] (0: default)", c.MaxBatchBytes, segment.BatchHeaderSize, maxMaxBatchBytes)
	}
	switch c.CleanupPolicy {
	case "", CleanupDelete, CleanupCompact, CleanupCompactDelete, "delete,compact":
	default:
		bad("CleanupPolicy", "%q: want %q, %q or %q", c.CleanupPolicy, CleanupDelete, CleanupCompact, CleanupCompactDelete)
	}
	if c.DeleteRetention < Unlimited {
		bad("DeleteRetention", "%v: want a positive duration, Unlimited (-1) or 0 (default)", c.DeleteRetention)
	}
	if !(c.MinCleanableDirtyRatio >= 0 && c.MinCleanableDirtyRatio <= 1) { // NaN too
		bad("MinCleanableDirtyRatio", "%v not in (0, 1] (0: default)", c.MinCleanableDirtyRatio)
	}
	if c.MinCompactionLag < 0 {
		bad("MinCompactionLag", "%v is negative", c.MinCompactionLag)
	}
	if c.ReplicationFactor < 0 || c.ReplicationFactor > maxReplicationFactor {
		bad("ReplicationFactor", "%d not in [1, %d] (0: default)", c.ReplicationFactor, maxReplicationFactor)
	}
	if c.MinInsyncReplicas < 0 || (c.ReplicationFactor > 0 && c.MinInsyncReplicas > c.ReplicationFactor) {
		bad("MinInsyncReplicas", "%d not in [1, ReplicationFactor] (0: default)", c.MinInsyncReplicas)
	}
	return out
}

// compacts reports whether the policy includes compaction.
func (c TopicConfig) compacts() bool {
	return c.CleanupPolicy == CleanupCompact || c.CleanupPolicy == CleanupCompactDelete || c.CleanupPolicy == "delete,compact"
}

// deletes reports whether the policy includes retention.
func (c TopicConfig) deletes() bool { return c.CleanupPolicy != CleanupCompact }

// parseCompression accepts exactly the codec names the constants give.
func parseCompression(name string) (segment.Compression, error) {
	c, err := segment.ParseCompression(name)
	if err == nil && c.String() != name {
		err = fmt.Errorf("%q is not a canonical codec name", name)
	}
	return c, err
}

// inherit returns c with every zero field taken from parent.
func (c TopicConfig) inherit(parent TopicConfig) TopicConfig {
	if c.Partitions == 0 {
		c.Partitions = parent.Partitions
	}
	if c.Sync.Mode == SyncDefault {
		c.Sync = parent.Sync
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = parent.SegmentBytes
	}
	if c.SegmentAge == 0 {
		c.SegmentAge = parent.SegmentAge
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = parent.RetentionBytes
	}
	if c.RetentionAge == 0 {
		c.RetentionAge = parent.RetentionAge
	}
	if c.Compression == "" {
		c.Compression = parent.Compression
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = parent.MaxBatchBytes
	}
	if c.CleanupPolicy == "" {
		c.CleanupPolicy = parent.CleanupPolicy
	}
	if c.DeleteRetention == 0 {
		c.DeleteRetention = parent.DeleteRetention
	}
	if c.MinCleanableDirtyRatio == 0 {
		c.MinCleanableDirtyRatio = parent.MinCleanableDirtyRatio
	}
	if c.MinCompactionLag == 0 {
		c.MinCompactionLag = parent.MinCompactionLag
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = parent.ReplicationFactor
	}
	if c.MinInsyncReplicas == 0 {
		c.MinInsyncReplicas = parent.MinInsyncReplicas
	}
	c.UncleanLeaderElection = c.UncleanLeaderElection || parent.UncleanLeaderElection
	return c
}

// ConfigError reports every invalid field of a TopicConfig or of Options. It
// matches ErrInvalidConfig and ErrInvalidArgument.
type ConfigError struct {
	// What was being configured: `topic "orders"`, "Options", ...
	What string
	// Problems has one entry per invalid field, each starting with the field's name.
	Problems []string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return "strata/log: invalid config for " + e.What + ": " + strings.Join(e.Problems, "; ")
}

// Unwrap makes errors.Is match ErrInvalidConfig and ErrInvalidArgument.
func (e *ConfigError) Unwrap() []error { return []error{ErrInvalidConfig, ErrInvalidArgument} }

// checkConfig returns a *ConfigError if there are problems.
func checkConfig(what string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return &ConfigError{What: what, Problems: problems}
}
