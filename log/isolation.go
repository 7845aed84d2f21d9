package log

import (
	"fmt"

	"github.com/stratalog/strata/partition"
)

// IsolationLevel says which records of transactions a consumer reads (Kafka's
// isolation.level). Records of control batches (transaction markers) are never
// returned, at either level.
type IsolationLevel = partition.IsolationLevel

// Isolation levels, spelled as the partition package spells them.
const (
	// ReadUncommitted reads every record, those of open and aborted transactions
	// included, up to the end offset: the default, as Kafka's.
	ReadUncommitted = partition.ReadUncommitted
	// ReadCommitted reads only up to the last stable offset (the first offset of
	// the earliest transaction not yet decided), and never the records of an
	// aborted transaction. End offsets, Lag and CaughtUp count to the last stable
	// offset, as Kafka's read_committed consumers do.
	ReadCommitted = partition.ReadCommitted
)

// checkIsolationLevel returns the problem with level for a *ConfigError, or "".
func checkIsolationLevel(level IsolationLevel) string {
	if level != ReadUncommitted && level != ReadCommitted {
		return fmt.Sprintf("IsolationLevel: %v is not an isolation level", level)
	}
	return ""
}

// endOffsetFor returns where a reader in level finds the end of p: its last
// stable offset in ReadCommitted, its end offset (the high watermark) otherwise.
// In a store of several brokers p is the leader's log: the last stable offset is
// the leader's, bounded by its high watermark.
func endOffsetFor(p *partition.Partition, level IsolationLevel) int64 {
	if level == ReadCommitted {
		return p.LastStableOffset()
	}
	return p.EndOffset()
}

// readableFor returns the channel closed once a reader in level may find a record
// of p at offset (Partition.Readable, ReadableCommitted).
func readableFor(p *partition.Partition, offset int64, level IsolationLevel) <-chan struct{} {
	if level == ReadCommitted {
		return p.ReadableCommitted(offset)
	}
	return p.Readable(offset)
}
