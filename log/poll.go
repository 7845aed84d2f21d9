package log

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/stratalog/strata/partition"
)

// Poll returns the next records of the assigned partitions, at most MaxPollRecords
// of them and MaxPollBytes of keys, values and headers (but at least one record),
// waiting until there is at least one, ctx ends, or the consumer is closed. Records
// of one partition come in offset order; partitions take turns being read first, so
// that a busy partition does not starve the others. The records are the caller's:
// they share no memory with the store or with other Polls.
//
// A position outside a partition's records is handled by the Reset policy; with
// ResetNone, Poll returns an error matching ErrOffsetOutOfRange (and any records
// read before it: the records are valid, and positions are past them). A deleted
// topic is ErrUnknownTopic; Poll with no assignment is ErrInvalidArgument.
func (c *Consumer) Poll(ctx context.Context) ([]*Record, error) {
	for {
		if err := c.usable(); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(c.assigned) == 0 {
			return nil, errorf("strata/log: poll: no partitions assigned: %w", ErrInvalidArgument)
		}
		records, err := c.fetch()
		if len(records) > 0 || err != nil {
			return records, err
		}
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
	}
}

// fetch returns the records readable now, without waiting.
func (c *Consumer) fetch() ([]*Record, error) {
	// Sized like the last Poll: a steady consumer allocates each Poll's records,
	// pointers and bytes once, instead of in doubling slabs; and nothing until there
	// is a record.
	arena := recordArena{recordsHint: c.lastRecords, bytesHint: c.lastBytes}
	out, bytes, err := c.fetchInto(&arena)
	if len(out) > 0 {
		c.lastRecords, c.lastBytes = len(out), bytes
	}
	return out, err
}

// fetchInto returns the records readable now, copied into arena, with their size in
// bytes (keys, values, headers).
func (c *Consumer) fetchInto(arena *recordArena) (out []*Record, bytes int, err error) {
	n := len(c.assigned)
	first := c.next
	c.next = (c.next + 1) % n
	for i := range n {
		a := c.assigned[(first+i)%n]
		for !a.paused && len(out) < c.opts.MaxPollRecords {
			rec, err := c.nextRecord(a)
			if err != nil {
				return out, bytes, err
			}
			if rec == nil {
				break
			}
			size := recordBytes(rec)
			if len(out) > 0 && bytes+size > c.opts.MaxPollBytes {
				a.pending = rec // the first record of the next Poll
				return out, bytes, nil
			}
			if out == nil {
				out = make([]*Record, 0, max(arena.recordsHint, 1))
			}
			out = append(out, arena.copy(a.tp, rec))
			bytes += size
		}
		if len(out) == c.opts.MaxPollRecords {
			break
		}
	}
	return out, bytes, nil
}

// nextRecord returns a's next record, or nil at the end of the partition, applying
// the Reset policy to a missing or out-of-range position. The record aliases a's
// reader until the next call.
func (c *Consumer) nextRecord(a *assignment) (*partition.Record, error) {
	if a.pending != nil {
		rec := a.pending
		a.pending = nil
		return rec, nil
	}
	if !a.positioned {
		if err := c.reset(a, errorf("strata/log: poll %s: no position and Reset is %v: %w", a.tp, c.opts.Reset, ErrOffsetOutOfRange)); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		from := a.reader.Offset()
		rec, err := a.reader.TryNext()
		if err == nil && rec == nil && attempt == 0 && c.s.brokers != nil {
			// At the end of a replica that no longer leads (its broker stopped or
			// its disk failed): read on from the leader.
			if p := c.s.reopened(a.tp, a.incarnation, a.p); p != nil {
				c.bind(a, p, from)
				continue
			}
		}
		if err == nil {
			return rec, nil
		}
		if errors.Is(err, ErrClosed) && attempt == 0 {
			// Closed and opened again (a repair): read the new one from here on.
			if p := c.s.reopened(a.tp, a.incarnation, a.p); p != nil {
				c.bind(a, p, from)
				continue
			}
			if c.s.reopeningOf(a.p) != nil {
				return nil, nil // being opened again with a new config: wait for it (waitTargets)
			}
			if p := c.s.reopened(a.tp, a.incarnation, a.p); p != nil {
				c.bind(a, p, from) // opened again since the first look
				continue
			}
		}
		if errors.Is(err, ErrCorrupt) && attempt < 2 {
			// A damaged replica: read another in-sync one, and rebuild this one.
			if p := c.s.readAround(a.tp, a.p, from, err); p != nil {
				c.bind(a, p, from)
				continue
			}
		}
		err = c.s.partitionError("poll", a.tp, a.p, err)
		if !errors.Is(err, ErrOffsetOutOfRange) || attempt == 2 {
			return nil, err // attempt 2: retention keeps moving the start offset
		}
		if err := c.reset(a, err); err != nil {
			return nil, err
		}
		c.s.logger.Info("consumer position out of range: reset", "partition", a.tp.String(), "from", from, "to", a.position(), "reset", c.opts.Reset.String())
	}
}

// wait blocks until a record is readable at the position of some assigned
// partition, or a partition is closed (the next fetch reports why), ctx ends or the
// consumer is closed.
func (c *Consumer) wait(ctx context.Context) error {
	return waitAny(ctx, c.waitTargets(), nil, c.closed)
}

// waitTarget is a partition and the offset a consumer waits for in it.
type waitTarget struct {
	p         *partition.Partition
	position  int64
	isolation IsolationLevel  // ReadCommitted: wait for the last stable offset to pass position
	replaced  <-chan struct{} // non-nil: p is being opened again; wait for that instead
}

// readable returns the channel that is closed when the target may have a record.
func (t waitTarget) readable() <-chan struct{} {
	if t.replaced != nil {
		return t.replaced
	}
	return readableFor(t.p, t.position, t.isolation)
}

// waitTargets returns the assigned partitions that are not paused, and their
// positions.
func (c *Consumer) waitTargets() []waitTarget {
	targets := make([]waitTarget, 0, len(c.assigned))
	for _, a := range c.assigned {
		if !a.paused {
			targets = append(targets, waitTarget{p: a.p, position: a.position(), isolation: c.opts.IsolationLevel, replaced: c.s.reopeningOf(a.p)})
		}
	}
	return targets
}

// reopeningChannel returns the channel closed once an assigned partition that is
// not paused and that AlterTopicConfig is opening again is replaced, or nil if
// none is being opened again.
func (c *Consumer) reopeningChannel() <-chan struct{} {
	for _, a := range c.assigned {
		if replaced := c.s.reopeningOf(a.p); replaced != nil && !a.paused {
			return replaced
		}
	}
	return nil
}

// waitAny blocks until a record may be readable at the position of one of targets
// (or a partition closed or failed: the next fetch says), changed is closed (nil:
// never), ctx ends (its error) or closed is closed (ErrClosed). It selects on the
// partitions' Readable channels: no goroutine per partition.
func waitAny(ctx context.Context, targets []waitTarget, changed, closed <-chan struct{}) error {
	if len(targets) == 1 { // the common case, without reflection
		select {
		case <-targets[0].readable():
			return nil
		case <-changed:
			return nil
		case <-closed:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	cases := make([]reflect.SelectCase, 0, len(targets)+3)
	cases = append(cases,
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(closed)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(changed)},
	)
	for _, t := range targets {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.readable())})
	}
	switch chosen, _, _ := reflect.Select(cases); chosen {
	case 0:
		return ctx.Err()
	case 1:
		return ErrClosed
	}
	return nil
}

// recordBytes is what a record counts against MaxPollBytes.
func recordBytes(r *partition.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// recordArena allocates the records of one Poll in slabs, so that a Poll allocates
// O(log n) times for n records, not once per record. Slabs are never grown in
// place: a new one is started, so pointers already handed out stay valid.
type recordArena struct {
	records []Record
	headers []Header
	data    []byte

	recordsHint, bytesHint int // the sizes of the first slabs, if larger than the minimum
}

// Sizes of the byte slabs of a recordArena: they double from the least to the most,
// or fit one larger value exactly.
const (
	minArenaBytes = 4 << 10
	maxArenaBytes = 1 << 20
)

// copy returns a copy of r, of partition tp, that shares no memory with r.
func (a *recordArena) copy(tp TopicPartition, r *partition.Record) *Record {
	if len(a.records) == cap(a.records) {
		a.records = make([]Record, 0, max(8, 2*cap(a.records), a.recordsHint))
		a.recordsHint = 0
	}
	a.records = append(a.records, Record{
		Topic:     tp.Topic,
		Partition: tp.Partition,
		Offset:    r.Offset,
		Key:       a.bytes(r.Key),
		Value:     a.bytes(r.Value),
		Timestamp: time.UnixMilli(r.Timestamp),
	})
	rec := &a.records[len(a.records)-1]
	if len(r.Headers) > 0 {
		if cap(a.headers)-len(a.headers) < len(r.Headers) {
			a.headers = make([]Header, 0, max(len(r.Headers), 2*cap(a.headers), 8))
		}
		start := len(a.headers)
		for _, h := range r.Headers {
			a.headers = append(a.headers, Header{Key: h.Key, Value: a.bytes(h.Value)})
		}
		rec.Headers = a.headers[start:len(a.headers):len(a.headers)]
	}
	return rec
}

// bytes returns a copy of b (nil for nil, non-nil for empty).
func (a *recordArena) bytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	if a.data == nil || cap(a.data)-len(a.data) < len(b) {
		a.data = make([]byte, 0, max(len(b), min(max(2*cap(a.data), a.bytesHint), maxArenaBytes), minArenaBytes))
		a.bytesHint = 0
	}
	start := len(a.data)
	a.data = append(a.data, b...)
	return a.data[start:len(a.data):len(a.data)]
}
