package partition_test

import (
	"slices"
	"sort"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// modelDir is the partition directory of the model test.
const modelDir = "/data/orders-0"

// modelBatch is one batch as the partition must store it.
type modelBatch struct {
	base         int64
	records      []partition.Record // offsets and final timestamps filled in
	encoded      []byte             // the bytes on disk, base offset stamped
	maxTimestamp int64
}

func (b *modelBatch) last() int64 { return b.base + int64(len(b.records)) - 1 }
func (b *modelBatch) next() int64 { return b.base + int64(len(b.records)) }
func (b *modelBatch) size() int64 { return int64(len(b.encoded)) }

// modelSegment is one segment: a base offset and its batches.
type modelSegment struct {
	base    int64
	batches []*modelBatch
}

func (s *modelSegment) size() int64 {
	var n int64
	for _, b := range s.batches {
		n += b.size()
	}
	return n
}

func (s *modelSegment) next() int64 {
	if len(s.batches) == 0 {
		return s.base
	}
	return s.batches[len(s.batches)-1].next()
}

func (s *modelSegment) maxTimestamp() int64 {
	ts := int64(-1)
	for _, b := range s.batches {
		ts = max(ts, b.maxTimestamp)
	}
	return ts
}

// find returns the index of the first batch whose last offset is >= offset, and the
// byte position of that batch, or ok false.
func (s *modelSegment) find(offset int64) (i int, pos int64, ok bool) {
	for i, b := range s.batches {
		if b.last() >= offset {
			return i, pos, true
		}
		pos += b.size()
	}
	return 0, 0, false
}

// modelLog is what the partition must hold. The last segment is the active one.
type modelLog struct {
	segments    []*modelSegment
	start       int64
	activeSince time.Time // mirrors the partition's age of the active segment
	// durableEnd is an offset below which everything is known to be fsynced: a crash
	// may lose records of the active segment at or above it (SyncNone), none below.
	durableEnd int64
}

func (m *modelLog) active() *modelSegment { return m.segments[len(m.segments)-1] }
func (m *modelLog) end() int64            { return m.active().next() }

func (m *modelLog) bytes() int64 {
	var n int64
	for _, s := range m.segments {
		n += s.size()
	}
	return n
}

// batches returns every batch, in offset order.
func (m *modelLog) batches() []*modelBatch {
	var out []*modelBatch
	for _, s := range m.segments {
		out = append(out, s.batches...)
	}
	return out
}

// recordsFrom returns every record at or above offset (and the start offset).
func (m *modelLog) recordsFrom(offset int64) []partition.Record {
	offset = max(offset, m.start)
	var out []partition.Record
	for _, b := range m.batches() {
		if b.last() < offset {
			continue
		}
		for _, r := range b.records {
			if r.Offset >= offset {
				out = append(out, r)
			}
		}
	}
	return out
}

// readBatches mirrors Partition.ReadBatches: the batches, from one segment, starting
// with the one holding offset, within maxBytes (the first always).
func (m *modelLog) readBatches(offset int64, maxBytes int) []*modelBatch {
	if offset >= m.end() {
		return nil
	}
	i := sort.Search(len(m.segments), func(i int) bool { return m.segments[i].base > offset }) - 1
	for i = max(i, 0); i < len(m.segments); i++ {
		s := m.segments[i]
		j, pos, ok := s.find(offset)
		if !ok {
			continue
		}
		limit := min(s.size()-pos, max(int64(maxBytes), s.batches[j].size()))
		var out []*modelBatch
		var n int64
		for _, b := range s.batches[j:] {
			if n+b.size() > limit {
				break
			}
			n += b.size()
			out = append(out, b)
		}
		return out
	}
	return nil
}

// locate mirrors Partition.Locate for an offset in [start, end).
func (m *modelLog) locate(offset int64) (s *modelSegment, b *modelBatch, pos int64) {
	i := sort.Search(len(m.segments), func(i int) bool { return m.segments[i].base > offset }) - 1
	for i = max(i, 0); i < len(m.segments); i++ {
		if j, pos, ok := m.segments[i].find(offset); ok {
			return m.segments[i], m.segments[i].batches[j], pos
		}
	}
	return nil, nil, 0
}

// offsetForTime is the offset of the first record at or above the start offset whose
// timestamp is >= ts, or the end offset and false.
func (m *modelLog) offsetForTime(ts int64) (int64, bool) {
	for _, s := range m.segments {
		for _, b := range s.batches {
			if b.last() < m.start || b.maxTimestamp < ts {
				continue
			}
			for _, r := range b.records {
				if r.Offset >= m.start && r.Timestamp >= ts {
					return r.Offset, true
				}
			}
		}
	}
	return m.end(), false
}

// truncateTo removes every batch holding an offset >= target and returns the new end
// offset (see Partition.TruncateTo). A removed batch may straddle the start offset
// (after DeleteRecordsBefore inside a batch): what is left then lies wholly below the
// start offset, and the log starts over empty at the start offset.
func (m *modelLog) truncateTo(target int64) int64 {
	if target == m.end() {
		return target
	}
	keep := max(sort.Search(len(m.segments), func(i int) bool { return m.segments[i].base > target }), 1)
	m.segments = m.segments[:keep]
	last := m.segments[keep-1]
	if j, _, ok := last.find(target); ok {
		last.batches = last.batches[:j]
	}
	if m.end() < m.start {
		m.segments = []*modelSegment{{base: m.start}}
	}
	m.durableEnd = min(m.durableEnd, m.end())
	return m.end()
}

// retention mirrors the partition's retention and returns how many segments it
// deletes.
func (m *modelLog) retention(opts *partition.Options, now time.Time) int {
	total := m.bytes()
	cutoff := int64(-1)
	if opts.RetentionAge > 0 {
		cutoff = now.Add(-opts.RetentionAge).UnixMilli()
	}
	n := 0
	for ; n < len(m.segments)-1; n++ {
		s := m.segments[n]
		belowStart := m.segments[n+1].base <= m.start
		tooOld := cutoff >= 0 && s.maxTimestamp() < cutoff
		tooBig := opts.RetentionBytes > 0 && total-s.size() >= opts.RetentionBytes
		if !belowStart && !tooOld && !tooBig {
			break
		}
		total -= s.size()
	}
	if n > 0 {
		m.start = max(m.start, m.segments[n].base)
		m.segments = slices.Clone(m.segments[n:])
	}
	return n
}

// roll starts a new segment at the end offset and applies retention.
func (m *modelLog) roll(opts *partition.Options, now time.Time) {
	m.durableEnd = m.end() // the sealed segment is fsynced
	m.segments = append(m.segments, &modelSegment{base: m.end()})
	m.activeSince = now
	m.retention(opts, now)
}

// append adds a batch of records (timestamps final) encoded as encoded, rolling first
// if the partition would, and returns its base offset.
func (m *modelLog) append(opts *partition.Options, now time.Time, records []partition.Record, encoded []byte, logAppendTime bool) int64 {
	active := m.active()
	segmentAge := opts.SegmentAge
	if segmentAge == 0 {
		segmentAge = partition.DefaultSegmentAge
	}
	if active.size() > 0 && (active.size()+int64(len(encoded)) > opts.SegmentBytes || now.Sub(m.activeSince) >= segmentAge) {
		m.roll(opts, now)
		active = m.active()
	}
	b := &modelBatch{base: m.end(), encoded: slices.Clone(encoded), maxTimestamp: -1}
	segment.SetBaseOffset(b.encoded, b.base)
	for _, r := range records {
		b.maxTimestamp = max(b.maxTimestamp, r.Timestamp)
	}
	for i, r := range records {
		r = cloneModelRecord(r)
		r.Offset = b.base + int64(i)
		if logAppendTime {
			r.Timestamp = b.maxTimestamp
		}
		b.records = append(b.records, r)
	}
	active.batches = append(active.batches, b)
	return b.base
}

// settle mirrors what Open does to a log it loads: it drops segments wholly below the
// start offset, creates a segment if none is left, and takes the age of the active
// segment from its first batch.
func (m *modelLog) settle(now time.Time) {
	if last := m.active(); last.next() < m.start {
		m.segments = nil
	}
	for len(m.segments) > 1 && m.segments[1].base <= m.start {
		m.segments = m.segments[1:]
	}
	if len(m.segments) == 0 {
		m.segments = []*modelSegment{{base: m.start}}
	}
	m.start = max(m.start, m.segments[0].base)
	m.durableEnd = m.end() // Open fsyncs what it recovered
	m.activeSince = now
	if active := m.active(); len(active.batches) > 0 && active.batches[0].maxTimestamp >= 0 {
		m.activeSince = time.UnixMilli(active.batches[0].maxTimestamp)
	}
}

func cloneModelRecord(r partition.Record) partition.Record {
	c := r
	c.Key = slices.Clone(r.Key)
	c.Value = slices.Clone(r.Value)
	if r.Headers != nil {
		c.Headers = make([]partition.Header, len(r.Headers))
		for i, h := range r.Headers {
			c.Headers[i] = partition.Header{Key: h.Key, Value: slices.Clone(h.Value)}
		}
	}
	return c
}

// modelCounters are the append counters of Stats, since Open.
type modelCounters struct{ appends, records, bytes uint64 }

func (c *modelCounters) add(records, bytes int) {
	c.appends++
	c.records += uint64(records)
	c.bytes += uint64(bytes)
}
