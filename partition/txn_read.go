package partition

import (
	"context"
	"fmt"
	"math"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// IsolationLevel says which records of transactions a Reader returns (Kafka's
// isolation.level).
type IsolationLevel int8

// Isolation levels.
const (
	// ReadUncommitted returns every record, of open and aborted transactions too:
	// Kafka's default.
	ReadUncommitted IsolationLevel = iota
	// ReadCommitted returns records only below the last stable offset, and none of
	// an aborted transaction.
	ReadCommitted
)

// String returns Kafka's name of the level.
func (l IsolationLevel) String() string {
	switch l {
	case ReadUncommitted:
		return "read_uncommitted"
	case ReadCommitted:
		return "read_committed"
	}
	return fmt.Sprintf("IsolationLevel(%d)", int8(l))
}

// SetIsolationLevel sets which records of transactions the Reader returns:
// ReadUncommitted (the default, as Kafka's) or ReadCommitted, which stops at the
// last stable offset (Next waits for it to move) and skips the records of aborted
// transactions, found in the aborted-transaction index. In either level the
// Reader never returns the records of control batches (transaction markers), as
// Kafka's consumers drop them. An unknown level is ErrInvalidArgument and changes
// nothing.
func (r *Reader) SetIsolationLevel(level IsolationLevel) error {
	if level != ReadUncommitted && level != ReadCommitted {
		return errorf("strata/partition: isolation level %d: %w", int8(level), ErrInvalidArgument)
	}
	r.isolation = level
	r.buf, r.hold, r.pos, r.inBatch = nil, nil, 0, false
	return nil
}

// fetchCommitted is fetch for ReadCommitted: the batches below the last stable
// offset, and the aborted transactions among them.
func (r *Reader) fetchCommitted() error {
	r.p.knowTransactions()
	r.p.mu.RLock()
	lastStable, end := r.p.lastStableLocked(), r.p.mu.committed.offset
	var err error
	if r.offset > end {
		err = r.p.outOfRangeLocked(r.offset)
	}
	r.p.mu.RUnlock()
	if r.offset >= lastStable {
		r.buf, r.hold, r.pos = nil, nil, 0
		return err
	}
	var b []byte
	var mapping *vfs.Mapping
	b, mapping, err = r.p.fetchBatches(r.own[:0], r.offset, r.maxBytes)
	if mapping == nil {
		r.own = b
	}
	r.buf, r.hold, r.pos = b[:batchesBelow(b, lastStable)], mapping, 0
	if err != nil {
		return err
	}
	r.aborted = r.aborted[:0]
	if len(r.buf) > 0 {
		r.p.mu.RLock()
		r.aborted = r.p.abortedTxnsLocked(r.aborted, r.offset, lastStable)
		r.p.mu.RUnlock()
	}
	return nil
}

// batchesBelow returns the length of the whole batches at the start of b (checked
// by the fetch) that begin below offset.
func batchesBelow(b []byte, offset int64) int {
	n := 0
	for n+segment.BatchHeaderSize <= len(b) {
		h, err := segment.ParseBatchHeader(b[n:], len(b)-n)
		if err != nil || h.BaseOffset >= offset || h.Size() > len(b)-n {
			break
		}
		n += h.Size()
	}
	return n
}

// skipBatch says whether the Reader skips the batch h without decoding it: a
// control batch always, a batch of an aborted transaction in ReadCommitted.
func (r *Reader) skipBatch(h *segment.BatchHeader) bool {
	if h.IsControl() {
		return true
	}
	if r.isolation != ReadCommitted || !h.IsTransactional() {
		return false
	}
	for _, t := range r.aborted {
		if t.ProducerID == h.ProducerID && t.FirstOffset <= h.BaseOffset && h.BaseOffset < t.LastOffset {
			return true
		}
	}
	return false
}

// waitStable blocks until a record at offset or later is below the last stable
// offset, ctx ends, or the partition is closed or fails.
func (p *Partition) waitStable(ctx context.Context, offset int64) error {
	for {
		known := p.knowTransactions()
		// The last stable offset moves up only when the high watermark does: a
		// marker is written at or above it, and decides its transaction only once
		// the high watermark passes it. A high watermark that moves below the
		// snapshot the producer state came from wakes the wait, for
		// knowTransactions to replay the markers above it.
		reload := false
		err := p.waitUntil(ctx, offset, func() int64 {
			if known && p.decidedUnknownLocked() {
				reload = true
				return math.MaxInt64
			}
			return p.lastStableLocked()
		})
		if err != nil || !reload {
			return err
		}
	}
}
