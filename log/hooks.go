package log

import "time"

// Hooks are functions the store calls on storage events, for metrics and tracing.
// A nil hook is not called. Hooks run on the goroutine that caused the event and must
// not block, nor call back into the store.
//
// Only OnRetention is wired today. The partition package does not yet report segment
// rolls or fsyncs to its caller, so OnRoll and OnFsync are never called; they are
// declared so that code written against them keeps compiling once they are.
// Stats reports fsync counts and latency in the meantime.
type Hooks struct {
	// OnRetention is called after the store's retention (background or
	// ApplyRetention) deleted segments of a partition. Segments a partition deletes
	// on its own when it rolls are not reported yet.
	OnRetention func(RetentionEvent)
	// OnRoll would be called after a partition rolled to a new segment. Not called
	// yet.
	OnRoll func(RollEvent)
	// OnFsync would be called after each fsync of appended data. Not called yet.
	OnFsync func(FsyncEvent)
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
