package partition

// OffsetForTime returns the offset of the first readable record whose timestamp (ms
// since the Unix epoch) is >= ts: Kafka's ListOffsets by timestamp, what a consumer
// seeks to in order to replay from a point in time. found is false if no record is
// that recent; offset is then the end offset.
func (p *Partition) OffsetForTime(ts int64) (offset int64, found bool, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.readableLocked(); err != nil {
		return 0, false, err
	}
	for _, s := range p.mu.segments {
		if s.Base() >= p.mu.committed.offset {
			break
		}
		if s.NextOffset() <= p.mu.start || s.MaxTimestamp() < ts {
			continue
		}
		end := p.readableEndLocked(s)
		off, ok, err := s.FindTimestamp(ts, p.mu.start, end)
		if err != nil || ok {
			return off, ok, err
		}
	}
	return p.mu.committed.offset, false, nil
}
