package log

import "github.com/stratalog/strata/partition"

// Hooks are functions the store calls on storage events, for metrics and tracing:
// partition.Hooks for every partition of the store, each event naming its
// partition. A nil hook is not called. Hooks run on the goroutine that caused the event, some
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
		h.OnRetention = func(e partition.RetentionEvent) { hook(RetentionEvent{tp, e}) }
	}
	if hook := s.opts.Hooks.OnRoll; hook != nil {
		h.OnRoll = func(e partition.RollEvent) { hook(RollEvent{tp, e}) }
	}
	if hook := s.opts.Hooks.OnFsync; hook != nil {
		h.OnFsync = func(e partition.FsyncEvent) { hook(FsyncEvent{tp, e}) }
	}
	if hook := s.opts.Hooks.OnCompaction; hook != nil {
		h.OnCompaction = func(r partition.CompactionResult) { hook(CompactionEvent{tp, r}) }
	}
	return h
}

// CompactionEvent describes a compaction of a partition: what it read, wrote and
// removed, and the cleaner point afterwards.
type CompactionEvent struct {
	TopicPartition
	partition.CompactionResult
}

// RetentionEvent describes segments deleted by retention or DeleteRecords: how
// many (SegmentsDeleted), and the partition's start offset afterwards
// (StartOffset).
type RetentionEvent struct {
	TopicPartition
	partition.RetentionEvent
}

// RollEvent describes a segment roll: the base offset of the new active segment
// (BaseOffset).
type RollEvent struct {
	TopicPartition
	partition.RollEvent
}

// FsyncEvent describes an fsync of appended data: how long it took (Duration).
type FsyncEvent struct {
	TopicPartition
	partition.FsyncEvent
}
