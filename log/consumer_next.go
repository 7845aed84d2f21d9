package log

import (
	"context"
	"time"

	"github.com/stratalog/strata/partition"
)

// Next returns the next record of the assigned partitions without copying it: the
// Record, its Key, Value and Headers alias the consumer's buffers (on Linux, the
// segment's memory mapping) and are valid only until the next call of any of the
// consumer's methods; the caller must not modify them, nor hand the Record to
// Produce, which sets its fields (produce a copy). It is the fastest way to
// consume, and allocates nothing per record; Poll is the way to keep records (it
// copies them).
//
// Next waits until a record is readable, ctx ends or the consumer is closed; ctx is
// looked at only when there is nothing to return at once. Records of one partition
// come in offset order; Next reads up to MaxPollRecords records from one partition
// before it turns to the next one that has records, so that a busy partition does
// not starve the others. Positions, the Reset policy, paused partitions and errors
// are as for Poll; the position of the record's partition is past it when Next
// returns.
//
// Next and Poll may be mixed: both read from the same positions.
func (c *Consumer) Next(ctx context.Context) (*Record, error) {
	// The common case first, in this function (one call less is a tenth of Next's
	// own time): the current partition's next record, when it has a position, no
	// record held back, its run is not over and the reader has the record ready.
	// Anything else, the end and errors included, goes the general way, which tries
	// again. Only the consumer's own closed flag is tested here, not the store's
	// (usable): Store.Close closes every consumer before it closes a partition.
	if a := c.current; a != nil && c.run < c.opts.MaxPollRecords && a.pending == nil && a.positioned && !c.closedFlag.Load() {
		if rec, err := a.reader.TryNext(); rec != nil && err == nil {
			c.run++
			return c.view(a, rec), nil
		}
	}
	return c.nextRecordOfAny(ctx, true)
}

// TryNext is Next without the wait: it returns nil, nil when no assigned partition
// (paused ones aside) has a record at its position, that is once the consumer has
// read every record produced so far. It waits only while AlterTopicConfig opens
// an assigned partition again, which may hold records. An application that
// rebuilds state from a topic at start-up reads with TryNext until it returns nil,
// then serves.
func (c *Consumer) TryNext() (*Record, error) {
	return c.nextRecordOfAny(context.Background(), false)
}

// nextRecordOfAny is Next, which waits, and TryNext, which does not.
func (c *Consumer) nextRecordOfAny(ctx context.Context, wait bool) (*Record, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	for {
		if a := c.current; a != nil && c.run < c.opts.MaxPollRecords {
			rec, err := c.nextRecord(a)
			if err != nil {
				c.run = c.opts.MaxPollRecords // the next call starts with the partition after a
				return nil, err
			}
			if rec != nil {
				c.run++
				return c.view(a, rec), nil
			}
		}
		rec, err := c.nextPartition()
		if rec != nil || err != nil {
			return rec, err
		}
		if len(c.assigned) == 0 {
			return nil, errorf("strata/log: next: no partitions assigned: %w", ErrInvalidArgument)
		}
		if !wait {
			if replaced := c.reopeningChannel(); replaced != nil {
				// A partition being opened again (AlterTopicConfig) may have
				// records: wait for the new one rather than say caught up.
				select {
				case <-replaced:
				case <-c.closed:
					return nil, ErrClosed
				}
				continue
			}
			return nil, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		if err := c.usable(); err != nil {
			return nil, err
		}
	}
}

// nextPartition makes the first partition after the current one (in Assign order)
// that has a record readable the current one, and returns its record; nil if no
// partition has one.
func (c *Consumer) nextPartition() (*Record, error) {
	n := len(c.assigned)
	first := 0
	if c.current != nil {
		first = c.currentIndex + 1
	}
	c.current = nil
	for i := range n {
		index := (first + i) % n
		a := c.assigned[index]
		if a.paused {
			continue
		}
		rec, err := c.nextRecord(a)
		if err != nil {
			// The next call starts with the partition after a: a failing
			// partition does not keep the others from being read.
			c.current, c.currentIndex, c.run = a, index, c.opts.MaxPollRecords
			return nil, err
		}
		if rec != nil {
			c.current, c.currentIndex, c.run = a, index, 1
			return c.view(a, rec), nil
		}
	}
	return nil, nil
}

// view returns rec, of a's partition, as the Record Next returns: the consumer's
// own, overwritten by every call. Its fields are set one by one: a composite literal
// is built aside and then copied, which took a third of Next's own time.
func (c *Consumer) view(a *assignment, rec *partition.Record) *Record {
	// Topic, Partition and Timestamp are set only when they change: Next's records
	// are read-only. Records of a batch often share their millisecond, converted
	// once.
	v := &c.viewRecord
	if c.viewOf != a {
		c.viewOf = a
		v.Topic, v.Partition = a.tp.Topic, a.tp.Partition
		c.viewMillis, v.Timestamp = rec.Timestamp, time.UnixMilli(rec.Timestamp)
	} else if rec.Timestamp != c.viewMillis {
		c.viewMillis, v.Timestamp = rec.Timestamp, time.UnixMilli(rec.Timestamp)
	}
	v.Offset = rec.Offset
	v.Key = rec.Key
	v.Value = rec.Value
	v.Headers = rec.Headers
	return v
}
