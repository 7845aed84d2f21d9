package log

import (
	"time"

	"github.com/stratalog/strata/partition"
)

// Hooks are functions the store calls on storage events, for metrics and tracing.
// A nil hook is not called. Hooks run on the goroutine that caused the event, some
// with a partition's append lock held: they must be quick, must not block, and must
// not call back into the store.
type Hooks struct {
	// OnRetention is called after retention (in the background, on ApplyRetention,
	// or when a partition rolls) or DeleteRecords deleted segments of a partition.
	OnRetention func(RetentionEvent)
	// OnRoll is called after a partition rolled to a new segment.
	OnRoll func(RollEvent)
	// OnFsync is called after each fsync of appended data. Under group commit one
	// fsync acknowledges many appends.
	OnFsync func(FsyncEvent)
	// OnCompaction is called after a compaction of a partition replaced segments (in
	// the background, on Compact or on CompactPartition).
	OnCompaction func(CompactionEvent)
}

// partitionHooks turns the store's hooks into the hooks of the partition tp.
func (s *Store) partitionHooks(tp TopicPartition) partition.Hooks {
	var h partition.Hooks
	if hook := s.opts.Hooks.OnRetention; hook != nil {
		h.OnRetention = func(deleted int, start int64) {
			hook(RetentionEvent{TopicPartition: tp, SegmentsDeleted: deleted, StartOffset: start})
		}
	}
	if hook := s.opts.Hooks.OnRoll; hook != nil {
		h.OnRoll = func(base int64) { hook(RollEvent{TopicPartition: tp, BaseOffset: base}) }
	}
	if hook := s.opts.Hooks.OnFsync; hook != nil {
		h.OnSync = func(took time.Duration) { hook(FsyncEvent{TopicPartition: tp, Duration: took}) }
	}
	if hook := s.opts.Hooks.OnCompaction; hook != nil {
		h.OnCompaction = func(r partition.CompactionResult) { hook(CompactionEvent{TopicPartition: tp, CompactionResult: r}) }
	}
	return h
}

// CompactionEvent describes a compaction of a partition: what it read, wrote and
// removed, and the cleaner point afterwards.
type CompactionEvent struct {
	TopicPartition
	partition.CompactionResult
}

// RetentionEvent describes segments deleted by retention.
type RetentionEvent struct {
	TopicPartition
	// SegmentsDeleted is the number of segments deleted.
	SegmentsDeleted int
	// StartOffset is the partition's start offset afterwards.
	StartOffset int64
}

// RollEvent describes a segment roll.
type RollEvent struct {
	TopicPartition
	// BaseOffset is the base offset of the new active segment.
	BaseOffset int64
}

// FsyncEvent describes an fsync of appended data.
type FsyncEvent struct {
	TopicPartition
	// Duration is how long the fsync took.
	Duration time.Duration
}
