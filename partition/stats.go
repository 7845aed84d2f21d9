package partition

import "time"

// Stats is a snapshot of a partition's state and counters.
type Stats struct {
	StartOffset     int64         // lowest readable offset
	EndOffset       int64         // offset after the last acknowledged record
	Segments        int           // number of segment files
	Bytes           int64         // bytes in all .log files
	Appends         uint64        // batches appended since Open
	AppendedRecords uint64        // records appended since Open
	AppendedBytes   uint64        // batch bytes appended since Open
	Syncs           uint64        // fsyncs of appended data since Open
	SyncTime        time.Duration // total time spent in those fsyncs
	BytesRead       uint64        // batch bytes returned to readers since Open

	// Compaction (Options.Compact), since Open.
	Compactions              uint64 // compactions that replaced segments
	CompactionBytesRead      uint64 // bytes of the segments they replaced
	CompactionBytesWritten   uint64 // bytes of the segments that replaced them
	CompactionRecordsRemoved uint64 // superseded records and expired tombstones removed
	CleanerPoint             int64  // offsets below it are compacted (checkpointed)
}

// Stats returns a snapshot of the partition's state and counters.
func (p *Partition) Stats() Stats {
	p.mu.RLock()
	st := Stats{StartOffset: p.mu.start, EndOffset: p.mu.committed.offset, Segments: len(p.mu.segments)}
	for _, s := range p.mu.segments {
		st.Bytes += s.Size()
	}
	p.mu.RUnlock()
	st.Appends = p.stats.appends.Load()
	st.AppendedRecords = p.stats.appendedRecords.Load()
	st.AppendedBytes = p.stats.appendedBytes.Load()
	st.Syncs = p.stats.syncs.Load()
	st.SyncTime = time.Duration(p.stats.syncNanos.Load())
	st.BytesRead = p.stats.bytesRead.Load()
	p.cleaner.stats(&st)
	return st
}
