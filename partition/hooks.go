package partition

import "time"

// Hooks are functions a partition calls on storage events, for metrics and tracing.
// A nil hook is not called. Hooks run synchronously on the goroutine that caused the
// event, some with the partition's append lock held: they must be quick, must not
// block, and must not call back into the partition.
type Hooks struct {
	// OnRoll is called after the active segment was sealed and a new one, starting
	// at base, became active.
	OnRoll func(base int64)
	// OnSync is called after each fsync of appended data, with how long it took.
	// Under group commit one fsync acknowledges many appends.
	OnSync func(took time.Duration)
	// OnRetention is called after retention or DeleteRecordsBefore deleted segments:
	// how many, and the start offset afterwards.
	OnRetention func(deleted int, startOffset int64)
	// OnCompaction is called after a compaction replaced segments, with what it did.
	// It runs on the goroutine that called Compact, without the append lock.
	OnCompaction func(CompactionResult)
}
