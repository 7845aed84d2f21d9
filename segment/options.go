package segment

import "github.com/stratalog/strata/index"

// Defaults for Options fields left at zero.
const (
	DefaultMaxBatchBytes      = 1 << 20 // Kafka's message.max.bytes
	DefaultIndexIntervalBytes = 4096    // Kafka's index.interval.bytes
	DefaultMaxIndexBytes      = 10 << 20
)

// Options configure a segment. The zero value is valid: every zero field takes its
// default.
type Options struct {
	// MaxBatchBytes is the largest batch accepted on append and the largest length
	// field believed on read; a longer length on disk is corruption, and nothing larger
	// is ever allocated. Default 1 MiB.
	MaxBatchBytes int
	// IndexIntervalBytes is how many bytes of log are appended between two index
	// entries. Default 4096.
	IndexIntervalBytes int
	// MaxIndexBytes is the largest size of each index file; a full index makes the
	// owner roll the segment. Default 10 MiB.
	MaxIndexBytes int
	// Dense says that the segment's offsets have no gaps: its first batch starts at
	// the segment's base offset and each batch at the offset after the one before.
	// A log that compaction never touched is dense. The baseOffset of a batch lies
	// outside its CRC, so in a dense segment this rule is what catches a damaged one
	// (a record at the wrong offset, a skipped or repeated range): breaking it is
	// corruption. Segments that compaction wrote have gaps, and are not dense; there
	// offsets must still rise.
	Dense bool
	// LazySync says that the owner acknowledges writes before fsyncing them
	// (partition.SyncPeriodic, SyncNone): after a machine crash, the unflushed tail
	// may hold pages the OS wrote out of order, a hole before a valid batch. Recover
	// then cuts at the first invalid batch past the flushed offset even when valid
	// batches follow it (and says so: Truncation.Reordered). Without it, which is the
	// promise of an fsync before every acknowledgement, that is damage and an error.
	LazySync bool
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxBatchBytes <= 0 {
		out.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if out.IndexIntervalBytes <= 0 {
		out.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	if out.MaxIndexBytes <= 0 {
		out.MaxIndexBytes = DefaultMaxIndexBytes
	}
	return out
}

func (o *Options) indexOptions() *index.Options { return &index.Options{MaxBytes: o.MaxIndexBytes} }
