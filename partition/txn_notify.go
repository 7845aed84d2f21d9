package partition

// ReadableCommitted is Readable for a Reader in ReadCommitted: the channel is
// closed already if a record at offset or later may lie below the last stable
// offset (LastStableOffset() > offset) or the partition is closed or failed, and
// else once the partition changes in a way that may move the last stable offset
// (the high watermark moved, a transaction marker was written, the start offset
// rose). After a wake-up, check again: an open transaction may still hold the
// last stable offset at or below offset.
func (p *Partition) ReadableCommitted(offset int64) <-chan struct{} {
	p.knowTransactions()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed || p.mu.err != nil || p.lastStableLocked() > offset {
		return closedChannel
	}
	if p.mu.waiters == nil {
		p.mu.waiters = make(chan struct{})
	}
	return p.mu.waiters
}
