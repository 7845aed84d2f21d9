package partition

// closedChannel is returned by Readable when there is no need to wait.
var closedChannel = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Readable returns a channel that is closed once the partition has changed in a way
// that may make a record at offset readable: the end offset moved, or the partition
// was closed or failed. It is closed already if a record at offset is readable
// (EndOffset() > offset) or the partition is closed or failed. Unlike Wait it starts
// no goroutine and takes no context, so that a caller can select on the channels of
// many partitions at once; after a wake-up, check again (the end offset may still
// be at or below offset).
func (p *Partition) Readable(offset int64) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed || p.mu.err != nil || p.mu.committed.offset > offset {
		return closedChannel
	}
	if p.mu.waiters == nil {
		p.mu.waiters = make(chan struct{})
	}
	return p.mu.waiters
}
