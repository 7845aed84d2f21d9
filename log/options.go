package log

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/stratalog/strata/vfs"
)

// DefaultRetentionCheckInterval is how often a store applies retention in the
// background by default: Kafka's log.retention.check.interval.ms.
const DefaultRetentionCheckInterval = 5 * time.Minute

// Options configure a Store. The zero value is valid and means the defaults; Open
// takes a copy, so the caller may reuse or change its Options afterwards.
type Options struct {
	// FS is the filesystem. Default the OS's (vfs.OS). Tests, strata's and an
	// application's own, use vfs's in-memory, crashable and fault-injecting
	// filesystems here to simulate crashes and I/O errors.
	FS vfs.FS
	// Logger receives topic changes, recovery reports and background failures.
	// A record about one partition names it in a "partition" attribute, always its
	// name as a string ("orders-0", TopicPartition.String); its own records add
	// "dir", the partition's directory.
	// Default: discard.
	Logger *slog.Logger
	// Now is the clock, for record timestamps, segment age and retention. Default
	// time.Now.
	Now func() time.Time
	// TopicDefaults is the configuration topics inherit: a zero field of a topic's
	// TopicConfig takes the value here, and a zero field here the built-in default.
	TopicDefaults TopicConfig
	// RetentionCheckInterval is how often the store applies retention to every
	// partition in the background. Default 5 minutes; negative: never (call
	// Store.ApplyRetention yourself). Appends that roll a segment apply retention to
	// their partition in any case.
	RetentionCheckInterval time.Duration
	// Partitioner chooses partitions for Store.Produce. Default
	// NewDefaultPartitioner(DefaultBatchBytes).
	Partitioner Partitioner
	// Hooks are called on storage events.
	Hooks Hooks
	// OffsetsRetention is how long consumer groups' committed offsets are kept once
	// their group has no members (Kafka's offsets.retention.minutes); then they are
	// deleted, and so is the group. Default 7 days; negative: forever.
	OffsetsRetention time.Duration
	// RecoveryPointInterval is how often the store records, in
	// recovery-points.checkpoint, how far each partition was fsynced (Kafka's
	// log.flush.offset.checkpoint.interval.ms), so that after a power loss the
	// records fsynced before the last recording that are missing are an error rather
	// than a shorter log. The file is written only when a point changed. Default 1
	// second; at least 1 ms; negative: never in the background (Store.Sync and Close
	// still write it).
	RecoveryPointInterval time.Duration
	// MaxTransactionTimeout bounds the transaction timeout a transactional
	// producer may ask for (Kafka's transaction.max.timeout.ms). Default 15
	// minutes.
	MaxTransactionTimeout time.Duration
	// TransactionalIDExpiration is how long a transactional id with no
	// transaction in progress is remembered after its last use (Kafka's
	// transactional.id.expiration.ms). Default 7 days; negative: forever.
	TransactionalIDExpiration time.Duration
	// TransactionCheckInterval is how often the store aborts transactions older
	// than their timeout, finishes ended transactions whose markers could not be
	// written, and expires idle transactional ids. Default 1 second; negative:
	// never in the background.
	TransactionCheckInterval time.Duration
}

// withDefaults returns a copy of o with defaults filled in, or a *ConfigError naming
// every invalid field.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	problems := out.TopicDefaults.problems("TopicDefaults.")
	if out.RecoveryPointInterval > 0 && out.RecoveryPointInterval < minRecoveryPointInterval {
		problems = append(problems, fmt.Sprintf("RecoveryPointInterval: %v: want 0 (default %v), negative (never), or at least %v",
			out.RecoveryPointInterval, DefaultRecoveryPointInterval, minRecoveryPointInterval))
	}
	if out.MaxTransactionTimeout < 0 {
		problems = append(problems, fmt.Sprintf("MaxTransactionTimeout: %v is negative", out.MaxTransactionTimeout))
	}
	if err := checkConfig("Options", problems); err != nil {
		return Options{}, err
	}
	out.TopicDefaults = out.TopicDefaults.inherit(builtinDefaults)
	if out.FS == nil {
		out.FS = vfs.OS
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.RetentionCheckInterval == 0 {
		out.RetentionCheckInterval = DefaultRetentionCheckInterval
	}
	if out.RecoveryPointInterval == 0 {
		out.RecoveryPointInterval = DefaultRecoveryPointInterval
	}
	if out.TransactionCheckInterval == 0 {
		out.TransactionCheckInterval = DefaultTransactionCheckInterval
	}
	if out.Partitioner == nil {
		out.Partitioner = NewDefaultPartitioner(DefaultBatchBytes)
	}
	return out, nil
}
