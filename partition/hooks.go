package partition

import "time"

// Hooks are functions a partition calls on storage events, for metrics and tracing.
// A nil hook is not called. Hooks run synchronously on the goroutine that caused the
// event, some with the partition's append lock held: they must be quick, must not
// block, and must not call back into the partition.
//
// They are the log package's Hooks, one partition's: the same hooks, and the same
// events, which log.Hooks' events embed with the partition they come from.
type Hooks struct {
	// OnRetention is called after retention or DeleteRecordsBefore deleted segments.
	OnRetention func(RetentionEvent)
	// OnRoll is called after the active segment was sealed and a new one became
	// active.
	OnRoll func(RollEvent)
	// OnFsync is called after each fsync of appended data. Under group commit one
	// fsync acknowledges many appends.
	OnFsync func(FsyncEvent)
	// OnCompaction is called after a compaction replaced segments, with what it did.
	// It runs on the goroutine that called Compact, without the append lock.
	OnCompaction func(CompactionResult)
}

// RetentionEvent describes segments deleted by retention or DeleteRecordsBefore.
type RetentionEvent struct {
	// SegmentsDeleted is the number of segments deleted.
	SegmentsDeleted int
	// StartOffset is the partition's start offset afterwards.
	StartOffset int64
}

// RollEvent describes a segment roll.
type RollEvent struct {
	// BaseOffset is the base offset of the new active segment.
	BaseOffset int64
}

// FsyncEvent describes an fsync of appended data.
type FsyncEvent struct {
	// Duration is how long the fsync took.
	Duration time.Duration
}
