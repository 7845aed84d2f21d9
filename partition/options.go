package partition

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// Defaults for Options fields left at zero.
const (
	DefaultSegmentBytes = 1 << 30            // Kafka's segment.bytes
	DefaultSegmentAge   = 7 * 24 * time.Hour // Kafka's segment.ms

	DefaultDeleteRetention        = 24 * time.Hour // Kafka's delete.retention.ms
	DefaultMinCleanableDirtyRatio = 0.5            // Kafka's min.cleanable.dirty.ratio
	DefaultCleanerMapBytes        = 64 << 20       // memory for the key map of one compaction
	// DefaultProducerIDExpiration is Kafka's producer.id.expiration.ms.
	DefaultProducerIDExpiration = 24 * time.Hour
)

// SyncMode says when appended data is fsynced. It is the log package's SyncMode
// too (log.SyncMode is an alias), so that a topic's mode and its partitions' are
// one value.
type SyncMode int

const (
	// SyncDefault, the zero value, is the default mode: SyncEveryAppend for a
	// partition. A log topic's SyncDefault inherits its store's TopicDefaults
	// instead (whose own default is SyncEveryAppend).
	SyncDefault SyncMode = iota
	// SyncEveryAppend fsyncs before acknowledging each append (the default). Appends
	// from many goroutines share fsyncs (group commit): one fsync acknowledges every
	// append written before it started.
	SyncEveryAppend
	// SyncPeriodic acknowledges an append once it is written to the OS and fsyncs in
	// the background every EveryRecords records or every Interval, whichever comes
	// first (Kafka's flush.messages and flush.ms). A crash of the machine may lose what
	// was appended since the last fsync.
	SyncPeriodic
	// SyncNone leaves flushing to the OS (and to Close). A crash of the machine may
	// lose any append not yet flushed; a crash of the process loses nothing.
	SyncNone
)

// String returns the mode's name: "every-append", "periodic", "none", or
// "default".
func (m SyncMode) String() string {
	switch m {
	case SyncDefault:
		return "default"
	case SyncEveryAppend:
		return "every-append"
	case SyncPeriodic:
		return "periodic"
	case SyncNone:
		return "none"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// SyncPolicy chooses the durability of appends. It is the log package's SyncPolicy
// too (log.SyncPolicy is an alias), whose zero value inherits the store's default.
type SyncPolicy struct {
	Mode SyncMode
	// EveryRecords, with SyncPeriodic: fsync once this many records are unsynced
	// (0: no count trigger).
	EveryRecords int
	// Interval, with SyncPeriodic: fsync unsynced records at least this often
	// (0: no timer).
	Interval time.Duration
}

// Options configure a partition. The zero value is valid and means the defaults:
// 1 GiB segments rolled weekly, fsync before every acknowledgement, keep forever.
type Options struct {
	// SegmentBytes rolls the active segment before it would exceed this size.
	// Default 1 GiB; at most segment.MaxSegmentBytes.
	SegmentBytes int64
	// SegmentAge rolls the active segment once its first batch is this old.
	// Default 7 days.
	SegmentAge time.Duration
	// IndexIntervalBytes is the log bytes between two index entries. Default 4096.
	IndexIntervalBytes int
	// MaxIndexBytes is the largest size of an index file. Default 10 MiB.
	MaxIndexBytes int
	// MaxBatchBytes is the largest batch (and so the largest record) appended.
	// Default 1 MiB, like Kafka's message.max.bytes. Lengths on disk are believed
	// up to the greatest MaxBatchBytes the partition was opened with (recorded in
	// its checkpoint), and never below 1 MiB; a follower's AppendReplica takes
	// batches up to that bound too, as Kafka's followers ignore the limit. So
	// lowering it bounds new batches and leaves stored ones readable, as in Kafka.
	MaxBatchBytes int
	// Compression is the codec Append uses for the batches it builds. Default none.
	Compression segment.Compression
	// Sync is the durability policy. Default (SyncDefault) SyncEveryAppend.
	Sync SyncPolicy
	// RetentionBytes deletes the oldest sealed segments while the partition would
	// still hold at least this many bytes without them. 0 keeps everything.
	RetentionBytes int64
	// RetentionAge deletes sealed segments whose newest record is older than this.
	// 0 keeps everything.
	RetentionAge time.Duration
	// Compact turns on log compaction (Kafka's cleanup.policy=compact): Compact keeps
	// the latest record of each key in sealed segments; see Partition.Compact. With
	// RetentionBytes or RetentionAge as well it is Kafka's "compact,delete".
	Compact bool
	// DeleteRetention is how long compaction keeps a tombstone (a record with a nil
	// Value) after the first compaction that saw it (Kafka's delete.retention.ms), so
	// that a consumer reading from the start sees the deletion. Default 24 hours;
	// negative: keep tombstones forever.
	DeleteRetention time.Duration
	// MinCleanableDirtyRatio is the share of dirty bytes (sealed bytes not compacted
	// yet, over all cleanable bytes) at which Compact compacts. Default 0.5; at most 1.
	MinCleanableDirtyRatio float64
	// MinCompactionLag keeps a sealed segment out of compaction until its newest
	// record is this old (Kafka's min.compaction.lag.ms). Default 0.
	MinCompactionLag time.Duration
	// CleanerMapBytes bounds the memory of the key → latest offset map one compaction
	// builds (Kafka's log.cleaner.dedupe.buffer.size); a compaction that fills it
	// cleans up to the segment where it filled, and the next one continues. At least
	// one segment is always mapped. Default 64 MiB.
	CleanerMapBytes int64
	// ProducerIDExpiration forgets a producer's state (its epoch and last
	// sequences, see AppendWith) once its newest batch's timestamp is this old and it
	// has no open transaction (Kafka's producer.id.expiration.ms): a retry after that
	// is accepted as new data. It is checked at Open, at every roll and at every
	// ApplyRetention (which a log store calls in the background). Default 24 hours.
	ProducerIDExpiration time.Duration
	// Now is the clock, for segment age, retention and compaction. Default time.Now.
	Now func() time.Time
	// Logger receives recovery reports and failures, with the attributes
	// "partition", the name of the partition's directory ("orders-0" in a store of
	// the log package), and "dir", its path. Default: discard.
	Logger *slog.Logger
	// FS is the filesystem. Default the OS; tests inject faults and crashes here.
	FS vfs.FS
	// Hooks are called on rolls, fsyncs, retention and compaction.
	Hooks Hooks
	// RecoveryPoint is a recovery point recorded outside the partition directory
	// (the log package keeps one per partition in its store's
	// recovery-points.checkpoint): every offset below it was fsynced, as
	// DurableOffset said. partition.checkpoint's own recovery point moves only at
	// rolls, Open and Close; after an unclean shutdown Open, Scrub and Repair use the
	// greater of the two, so that fsynced records missing from the newest segment
	// (cut at a batch boundary, or a batch below it damaged) are a *CorruptError, not
	// a shorter log or a torn tail, and Repair covers them. It is ignored after a
	// clean shutdown (the checkpoint then records the end). 0: none.
	//
	// Whoever records it must never let it exceed what is durable, and must lower it,
	// durably, before TruncateTo cuts below it, or before the directory is replaced
	// by another log: a value above the log's legitimate end is a false alarm.
	RecoveryPoint int64
	// RecoveryPointSegment, if not nil, is the segment holding the offsets just
	// below RecoveryPoint when it was recorded (DurablePoint): after an unclean
	// shutdown whose recovery point it raised, a newest segment of that base must
	// begin with that very batch, or it is not the segment that was fsynced there
	// (another partition's segment copied in its place): a *CorruptError.
	RecoveryPointSegment *SegmentMark
	// Replicated hands what readers see to the partition's owner, the replica layer:
	// readers see records only below the high watermark the owner sets with
	// SetHighWatermark, never above what the sync policy acknowledged here
	// (AcknowledgedOffset). Without it (the default) readers see everything the sync
	// policy acknowledged, as a partition that is its own only replica. See
	// high_watermark.go.
	Replicated bool
}

// SegmentMark identifies a segment by its base offset and the term of its first
// batch (segment.Segment.FirstTerm).
type SegmentMark struct {
	Base      int64
	FirstTerm uint64
}

// withDefaults returns a copy of o with defaults filled in, or an error naming every
// invalid field.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}
	if out.Sync.Mode == SyncDefault {
		out.Sync.Mode = SyncEveryAppend
	}
	if out.SegmentBytes < 0 || out.SegmentBytes > segment.MaxSegmentBytes {
		bad("SegmentBytes %d not in [0, %d]", out.SegmentBytes, int64(segment.MaxSegmentBytes))
	}
	if out.SegmentAge < 0 {
		bad("SegmentAge %v is negative", out.SegmentAge)
	}
	if out.IndexIntervalBytes < 0 {
		bad("IndexIntervalBytes %d is negative", out.IndexIntervalBytes)
	}
	if out.MaxIndexBytes < 0 || (out.MaxIndexBytes > 0 && out.MaxIndexBytes < 4*24) {
		bad("MaxIndexBytes %d: want 0 (default) or at least 96", out.MaxIndexBytes)
	}
	if out.MaxBatchBytes < 0 || (out.MaxBatchBytes > 0 && out.MaxBatchBytes < segment.BatchHeaderSize) {
		bad("MaxBatchBytes %d: want 0 (default) or at least %d", out.MaxBatchBytes, segment.BatchHeaderSize)
	}
	switch out.Compression {
	case segment.CompressionNone, segment.CompressionGzip, segment.CompressionSnappy, segment.CompressionZstd:
	default:
		bad("Compression %v is not supported", out.Compression)
	}
	switch out.Sync.Mode {
	case SyncEveryAppend, SyncNone:
	case SyncPeriodic:
		if out.Sync.EveryRecords <= 0 && out.Sync.Interval <= 0 {
			bad("Sync: SyncPeriodic needs EveryRecords > 0 or Interval > 0")
		}
	default:
		bad("Sync.Mode %v is not a sync mode", out.Sync.Mode)
	}
	if out.Sync.EveryRecords < 0 || out.Sync.Interval < 0 {
		bad("Sync.EveryRecords and Sync.Interval must not be negative")
	}
	if out.RetentionBytes < 0 {
		bad("RetentionBytes %d is negative", out.RetentionBytes)
	}
	if out.RetentionAge < 0 {
		bad("RetentionAge %v is negative", out.RetentionAge)
	}
	if !(out.MinCleanableDirtyRatio >= 0 && out.MinCleanableDirtyRatio <= 1) { // NaN too
		bad("MinCleanableDirtyRatio %v not in [0, 1] (0: default)", out.MinCleanableDirtyRatio)
	}
	if out.MinCompactionLag < 0 {
		bad("MinCompactionLag %v is negative", out.MinCompactionLag)
	}
	if out.CleanerMapBytes < 0 {
		bad("CleanerMapBytes %d is negative", out.CleanerMapBytes)
	}
	if out.ProducerIDExpiration < 0 {
		bad("ProducerIDExpiration %v is negative", out.ProducerIDExpiration)
	}
	if out.RecoveryPoint < 0 {
		bad("RecoveryPoint %d is negative", out.RecoveryPoint)
	}
	if len(problems) > 0 {
		return Options{}, errorf("strata/partition: invalid options: %w", errors.Join(append(problems, errs.ErrInvalidArgument)...))
	}
	if out.SegmentBytes == 0 {
		out.SegmentBytes = DefaultSegmentBytes
	}
	if out.SegmentAge == 0 {
		out.SegmentAge = DefaultSegmentAge
	}
	if out.MaxBatchBytes == 0 {
		out.MaxBatchBytes = segment.DefaultMaxBatchBytes
	}
	if out.DeleteRetention == 0 {
		out.DeleteRetention = DefaultDeleteRetention
	}
	if out.MinCleanableDirtyRatio == 0 {
		out.MinCleanableDirtyRatio = DefaultMinCleanableDirtyRatio
	}
	if out.CleanerMapBytes == 0 {
		out.CleanerMapBytes = DefaultCleanerMapBytes
	}
	if out.ProducerIDExpiration == 0 {
		out.ProducerIDExpiration = DefaultProducerIDExpiration
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.FS == nil {
		out.FS = vfs.OS
	}
	return out, nil
}

func (o *Options) segmentOptions(dense bool) *segment.Options {
	return &segment.Options{
		MaxBatchBytes:      o.MaxBatchBytes,
		IndexIntervalBytes: o.IndexIntervalBytes,
		MaxIndexBytes:      o.MaxIndexBytes,
		Dense:              dense,
		LazySync:           o.Sync.Mode != SyncEveryAppend,
	}
}

// partitionLogger returns logger with the partition's attributes: "partition", the
// name of its directory ("orders-0" in a store), as every strata log names a
// partition, and "dir", the directory's path.
func partitionLogger(logger *slog.Logger, dir string) *slog.Logger {
	return logger.With("partition", filepath.Base(dir), "dir", dir)
}
