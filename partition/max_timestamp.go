package partition

import (
	"cmp"
	"slices"

	"github.com/stratalog/strata/segment"
)

// TimestampOffset names one record by its offset and timestamp, with the leader
// epoch of its batch: MaxTimestampOffset's answer.
type TimestampOffset struct {
	Offset      int64
	Timestamp   int64 // ms since the Unix epoch
	LeaderEpoch int32 // the batch's partition leader epoch, -1 if it has none
}

// MaxTimestampOffset returns the first readable record with the greatest timestamp:
// Kafka's ListOffsets max-timestamp query (KIP-734), over the records from the
// start offset to the end offset (records removed by retention, DeleteRecords or
// compaction do not count; control records do, as in Kafka). found is false if
// there is none (an empty partition).
//
// Each segment keeps its greatest timestamp and the batch holding it (restored
// from the time index's last entry when the segment is opened), so the answer
// usually costs the decoding of one batch: segments are visited from the greatest
// timestamp down, and a segment is scanned only when that batch does not answer
// (the segment holding the start offset, a batch not readable yet, a batch that
// compaction emptied); the visit stops at the first segment that cannot hold a
// better record.
func (p *Partition) MaxTimestampOffset() (r TimestampOffset, found bool, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.readableLocked(); err != nil {
		return TimestampOffset{}, false, err
	}
	type candidate struct {
		s     *segment.Segment
		bound int64
	}
	var candidates []candidate
	for _, s := range p.mu.segments {
		if s.Base() >= p.mu.committed.offset {
			break
		}
		if s.NextOffset() <= p.mu.start {
			continue
		}
		if bound, _ := s.MaxTimestampBound(); bound >= 0 {
			candidates = append(candidates, candidate{s, bound})
		}
	}
	// Greatest bound first; among equal bounds the lower offsets first, so that the
	// first record of the greatest timestamp wins.
	slices.SortStableFunc(candidates, func(a, b candidate) int { return cmp.Compare(b.bound, a.bound) })
	var best segment.TimestampOffset
	for _, c := range candidates {
		if found && (c.bound < best.Timestamp || (c.bound == best.Timestamp && c.s.Base() > best.Offset)) {
			break
		}
		got, ok, err := c.s.MaxTimestampRecord(p.mu.start, p.readableEndLocked(c.s))
		if err != nil {
			return TimestampOffset{}, false, err
		}
		if ok && (!found || got.Timestamp > best.Timestamp || (got.Timestamp == best.Timestamp && got.Offset < best.Offset)) {
			best, found = got, true
		}
	}
	if !found {
		return TimestampOffset{}, false, nil
	}
	return TimestampOffset{Offset: best.Offset, Timestamp: best.Timestamp, LeaderEpoch: best.LeaderEpoch}, true, nil
}
