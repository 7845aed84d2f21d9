package partition

import (
	"sort"

	"github.com/stratalog/strata/segment"
)

// The aborted-transaction index (segment's .txnindex): an entry per transaction
// that an ABORT marker ended, in the segment holding the marker, so that a reader
// in read_committed knows which ranges to skip without scanning for markers.

// AbortedTxn is an aborted transaction: a producer's records from FirstOffset
// (its first batch) to LastOffset (its ABORT marker) are not to be read in
// read_committed (Kafka's FetchResponse AbortedTransaction, and the .txnindex
// entry).
type AbortedTxn = segment.AbortedTxn

// indexAbortedLocked appends c, if it aborted, to the aborted-transaction index of
// s, the segment holding its marker, with the last stable offset once it was
// decided. A replay (Open, truncation) finds markers already indexed: they are not
// indexed twice. The caller holds appendMu.
func (p *Partition) indexAbortedLocked(c completedTxn, lastStable int64, s *segment.Segment) error {
	if !c.aborted {
		return nil
	}
	if last, ok := s.LastAbortedTxn(); ok && last.LastOffset >= c.lastOffset {
		return nil
	}
	return s.AppendAbortedTxn(AbortedTxn{ProducerID: c.producerID, FirstOffset: c.firstOffset, LastOffset: c.lastOffset, LastStableOffset: lastStable})
}

// dropTailAbortedLocked removes the last segment's aborted-transaction index
// entries whose marker is at or above from, before Open's replay from there rebuilds
// them. Only the last segment can hold unsynced entries (a segment's seal fsyncs its
// .txnindex before the next one is created), so only it may hold what a crash left
// of them; the replay leaves the sealed segments' entries alone (indexAbortedLocked
// finds them there), for rewriting them would make them unsynced again. Open calls
// it.
func (p *Partition) dropTailAbortedLocked(from int64) error {
	p.mu.RLock()
	last := p.mu.segments[len(p.mu.segments)-1]
	p.mu.RUnlock()
	if last.NextOffset() <= from {
		return nil
	}
	return last.DropAbortedTxnsFrom(from)
}

// AbortedTxns returns the aborted transactions whose records lie among the offsets
// from to upper-1, in the order of their markers (Kafka's
// UnifiedLog.collectAbortedTransactions): what a Kafka fetch in read_committed
// answers with the batches from from to upper (the last stable offset at most).
func (p *Partition) AbortedTxns(from, upper int64) []AbortedTxn {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.abortedTxnsLocked(nil, from, upper)
}

// abortedTxnsLocked appends to dst the aborted transactions overlapping from to
// upper-1. The caller holds mu.
func (p *Partition) abortedTxnsLocked(dst []AbortedTxn, from, upper int64) []AbortedTxn {
	segments := p.mu.segments
	// A transaction's records lie at or below its marker: start at the segment
	// holding from.
	i := max(sort.Search(len(segments), func(i int) bool { return segments[i].Base() > from })-1, 0)
	// Its marker may lie above upper, in any later segment (another transaction
	// open since before the marker holds the last stable offset below it): search on
	// until an entry's last stable offset reaches upper, as Kafka does.
	for _, s := range segments[i:] {
		var complete bool
		if dst, complete = s.CollectAbortedTxns(dst, from, upper); complete {
			break
		}
	}
	return dst
}
