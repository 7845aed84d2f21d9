package partition

import (
	"cmp"
	"slices"
)

// The open transactions in order of first offset, so that the last stable offset
// is found without a pass over every producer at each marker (as Kafka's
// ProducerStateManager keeps ongoingTxns sorted by first offset). Transactions
// open at the log end, so in the order of their first offsets: each opening is
// appended, each ending leaves its entry stale (its producer no longer has that
// transaction open), and stale entries are dropped when they reach the head. A
// state set otherwise (a snapshot's, truncation's keepBelow) marks the queue
// unknown, and the next query rebuilds it from the producers.

// ongoingTxn is an entry of the queue: a producer's transaction from firstOffset.
type ongoingTxn struct {
	firstOffset int64
	producerID  int64
}

// ongoingTxns is the queue of open transactions of a producerStates.
type ongoingTxns struct {
	queue []ongoingTxn // by firstOffset, ascending, from head on; may hold stale entries
	head  int          // queue[:head] are dropped entries
	known bool         // false: rebuild from the producers before use
}

// opened records that producerID's transaction began at firstOffset. An opening
// out of order (below the newest entry) or a queue holding far more stale entries
// than there are producers makes the queue unknown: the next query rebuilds it.
func (s *producerStates) opened(producerID, firstOffset int64) {
	o := &s.ongoing
	if !o.known {
		return
	}
	if n := len(o.queue); (n > o.head && o.queue[n-1].firstOffset >= firstOffset) || n-o.head >= 2*len(s.producers)+64 {
		s.forgetOngoing()
		return
	}
	if o.head > 0 && o.head == len(o.queue) {
		o.queue, o.head = o.queue[:0], 0
	} else if o.head >= 64 && o.head >= len(o.queue)/2 {
		o.queue, o.head = o.queue[:copy(o.queue, o.queue[o.head:])], 0
	}
	o.queue = append(o.queue, ongoingTxn{firstOffset: firstOffset, producerID: producerID})
}

// forgetOngoing marks the queue unknown, after a change of the producers' open
// transactions other than apply and applyMarker.
func (s *producerStates) forgetOngoing() {
	s.ongoing = ongoingTxns{queue: s.ongoing.queue[:0]}
}

// firstOngoing returns the first offset of the earliest open transaction, or -1.
// Amortized, it costs O(log n) for n producers.
func (s *producerStates) firstOngoing() int64 {
	o := &s.ongoing
	if !o.known {
		o.queue, o.head = o.queue[:0], 0
		for id, e := range s.producers {
			if e.txnFirstOffset >= 0 {
				o.queue = append(o.queue, ongoingTxn{firstOffset: e.txnFirstOffset, producerID: id})
			}
		}
		slices.SortFunc(o.queue, func(a, b ongoingTxn) int { return cmp.Compare(a.firstOffset, b.firstOffset) })
		o.known = true
	}
	for ; o.head < len(o.queue); o.head++ {
		t := o.queue[o.head]
		if e := s.producers[t.producerID]; e != nil && e.txnFirstOffset == t.firstOffset {
			return t.firstOffset
		}
	}
	return -1
}
