package partition

import (
	"github.com/stratalog/strata/segment"
)

// The last stable offset (Kafka's UnifiedLog.lastStableOffset): readers in
// read_committed stop below the first offset of the earliest transaction not yet
// decided, and below the high watermark. A transaction counts as undecided until
// its marker is below the high watermark too (Kafka's unreplicated transactions):
// a marker that truncation may still remove decides nothing yet.
//
// The decided transactions are known from where the producer state was last
// loaded (Open, a truncation): a snapshot holds the producers' state, not which
// of their transactions a marker above the high watermark ended. While the high
// watermark lies below that snapshot (a replica that reopens, whose owner sets a
// high watermark below its log end), the last stable offset stays at the log
// start offset, and the next reader that asks (knowTransactions) replays the
// markers above the high watermark from a snapshot at or below it.

// transactions is what readers need of the producers' transactions, kept under mu
// by the writer (appendMu and mu) as the producer state changes.
type transactions struct {
	// firstOngoing is the first offset of the earliest open transaction, or -1.
	firstOngoing int64
	// decided are the transactions whose marker was written at or above the high
	// watermark when it was written, in marker order; those whose marker the high
	// watermark passed are dropped at the next marker.
	decided []completedTxn
	// unknown is set while the producer state is unread (producersUnread): the
	// first reader in read_committed reads it (knowTransactions).
	unknown bool
	// knownFrom is the offset from which decided is complete: the offset of the
	// snapshot the producer state was loaded from (0: replayed from the log's
	// beginning). Markers below it ended their transactions in the snapshot, and
	// are not in decided.
	knownFrom int64
}

// completedTxn is a transaction its marker ended (Kafka's CompletedTxn).
type completedTxn struct {
	producerID  int64
	firstOffset int64 // of its first batch in this partition
	lastOffset  int64 // of its marker
	aborted     bool
}

// lastStableLocked is the last stable offset: the high watermark, or below it the
// first offset of the earliest transaction open or decided by a marker at or above
// the high watermark, never below the log start offset; the log start offset while
// the transactions are unknown. The caller holds mu.
func (p *Partition) lastStableLocked() int64 {
	hw := p.mu.committed.offset
	if p.mu.txns.unknown || p.decidedUnknownLocked() {
		// The producer state is unread (knowTransactions could not read it): a
		// transaction may be open anywhere. Or a marker in [hw, knownFrom) may
		// have ended a transaction begun anywhere.
		return p.mu.start
	}
	lso := hw
	if t := p.mu.txns.firstOngoing; t >= 0 {
		lso = min(lso, t)
	}
	for _, c := range p.mu.txns.decided {
		if c.lastOffset >= hw {
			lso = min(lso, c.firstOffset)
		}
	}
	return max(lso, p.mu.start)
}

// LastStableOffset returns the last stable offset (Kafka's LSO): every record
// below it belongs to no transaction, or to one whose COMMIT or ABORT marker is
// below the high watermark. It is at most EndOffset. Readers in read_committed
// (SetIsolationLevel) return records only below it; an owner answering Kafka's
// ListOffsets for read_committed gives it as the end offset.
func (p *Partition) LastStableOffset() int64 {
	p.knowTransactions()
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.lastStableLocked()
}

// decidedUnknownLocked reports whether markers at or above the high watermark may
// be missing from the decided transactions: the high watermark is above the log
// start offset and below knownFrom. The caller holds mu.
func (p *Partition) decidedUnknownLocked() bool {
	hw := p.mu.committed.offset
	return hw > p.mu.start && hw < p.mu.txns.knownFrom
}

// knowTransactions reads the producer state if Open left it unread, so that the
// open transactions are known, and replays the log from a snapshot at or below
// the high watermark if the transactions that markers above the high watermark
// ended are unknown (decidedUnknownLocked). Should reading it fail, the partition's
// sticky error or the failed read is logged and the transactions stay unknown:
// the last stable offset then stays at the log start offset. Should the reload
// fail, the partition fails (its producer state is then partial) and the last
// stable offset stays at the log start offset. It returns whether the
// transactions are known.
func (p *Partition) knowTransactions() bool {
	p.mu.RLock()
	unknown := p.mu.txns.unknown || p.decidedUnknownLocked()
	p.mu.RUnlock()
	if !unknown {
		return true
	}
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	if err := p.readProducersLocked(); err != nil {
		p.logger.Error("cannot read the producer state: open transactions are unknown", "err", err)
		return false
	}
	p.mu.RLock()
	// The high watermark may move up meanwhile: a snapshot at or below hw is at or
	// below it still.
	hw, reload := p.mu.committed.offset, p.decidedUnknownLocked()
	p.mu.RUnlock()
	if !reload {
		return true
	}
	// The replay is for the decided transactions; the producer state it rebuilds
	// may know less than the one in force (retention or compaction removed
	// batches that made it), which is kept.
	producers := p.producers
	if err := p.loadProducersAtLocked(hw, false); err != nil {
		p.logger.Error("cannot reload the producer state: transactions decided above the high watermark are unknown", "err", err)
		_ = p.fail(err)
		return false
	}
	p.producers = producers
	p.publishTransactionsLocked()
	return true
}

// publishTransactionsLocked recomputes the open transactions from the producer
// state after it was loaded, read or rebuilt. The caller holds appendMu.
func (p *Partition) publishTransactionsLocked() {
	first := p.producers.firstOngoing()
	p.mu.Lock()
	p.mu.txns.firstOngoing, p.mu.txns.unknown = first, p.producersUnread
	p.mu.Unlock()
}

// forgetDecidedFromLocked forgets the decided transactions whose marker is at or
// above offset, and knows them only from offset on (knownFrom): a replay from
// offset finds them again, a truncation to it removed them. The caller holds
// appendMu.
func (p *Partition) forgetDecidedFromLocked(offset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.txns.knownFrom = offset
	kept := p.mu.txns.decided[:0]
	for _, c := range p.mu.txns.decided {
		if c.lastOffset < offset {
			kept = append(kept, c)
		}
	}
	clear(p.mu.txns.decided[len(kept):])
	p.mu.txns.decided = kept
}

// transactionOpenedLocked records that a producer's transaction began at first.
// The caller holds appendMu.
func (p *Partition) transactionOpenedLocked(first int64) {
	p.mu.Lock()
	if t := p.mu.txns.firstOngoing; t < 0 || first < t {
		p.mu.txns.firstOngoing = first
	}
	p.mu.Unlock()
}

// transactionCompletedLocked records that c's marker, written in segment s, ended
// c (the producer state already says so), and returns the last stable offset once
// c is decided (Kafka's ProducerStateManager.lastStableOffset(completedTxn)): the
// first offset of the earliest other open transaction, or the offset after the
// marker. The caller holds appendMu.
func (p *Partition) transactionCompletedLocked(c completedTxn, s *segment.Segment) int64 {
	first := p.producers.firstOngoing()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.txns.firstOngoing = first
	hw := p.mu.committed.offset
	kept := p.mu.txns.decided[:0]
	for _, d := range p.mu.txns.decided {
		if d.lastOffset >= hw {
			kept = append(kept, d)
		}
	}
	clear(p.mu.txns.decided[len(kept):])
	p.mu.txns.decided = append(kept, c)
	if first >= 0 {
		return first
	}
	return c.lastOffset + 1
}
