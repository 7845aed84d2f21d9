package partition

import (
	"github.com/stratalog/strata/segment"
)

// Compaction of transactions, as Kafka's cleaner (LogCleaner with
// CleanedTransactionMetadata): the cleanable segments end below the last stable
// offset, so an open transaction's records are never cleaned; an aborted
// transaction's batches are dropped (their keys are not mapped, so they never
// replace a committed record); a marker stays while any record of its transaction
// does, then gets a delete horizon DeleteRetention from now (attribute bit 6), and
// goes at the first compaction after the horizon.

// txnCleaning is a compaction's view of the transactions in its segments.
type txnCleaning struct {
	// aborted are the aborted transactions overlapping the cleanable segments, by
	// producer.
	aborted map[int64][]AbortedTxn
	// retained says, per producer, that a record of its current transaction (since
	// its last marker) stays: its marker must stay too.
	retained map[int64]bool
}

// planTransactions collects the aborted transactions among the cleanable
// segments. The caller holds mu (read).
func (p *Partition) planTransactionsLocked(plan *compactionPlan) {
	plan.aborted = map[int64][]AbortedTxn{}
	if len(plan.cleanable) == 0 {
		return
	}
	for _, t := range p.abortedTxnsLocked(nil, plan.cleanable[0].Base(), plan.next) {
		plan.aborted[t.ProducerID] = append(plan.aborted[t.ProducerID], t)
	}
}

// abortedBatch says whether h is a data batch of an aborted transaction.
func (c *cleaning) abortedBatch(h *segment.BatchHeader) bool {
	if !h.IsTransactional() || h.IsControl() {
		return false
	}
	for _, t := range c.plan.aborted[h.ProducerID] {
		if t.FirstOffset <= h.BaseOffset && h.BaseOffset < t.LastOffset {
			return true
		}
	}
	return false
}

// filter returns what replaces the batch at pos in the cleaned segment (see
// filterRecords), for transactional batches as Kafka's cleaner does.
func (c *cleaning) filter(g *cleanGroup, h *segment.BatchHeader, batch []byte, segmentLast bool, pos int64) ([]byte, error) {
	if c.txn.retained == nil {
		c.txn.retained = map[int64]bool{}
	}
	switch {
	case h.IsControl() && h.IsTransactional() && h.RecordCount > 0:
		return c.filterMarker(g, h, batch, segmentLast, pos)
	case c.abortedBatch(h) && h.RecordCount > 0:
		g.changed = true
		g.removed += int64(h.RecordCount)
		if !segmentLast && c.plan.producerLast[h.ProducerID] != h.LastOffset() {
			return nil, nil
		}
		return c.emptied(h)
	}
	out, err := c.filterRecords(g, h, batch, segmentLast, pos)
	if err == nil && out != nil && h.IsTransactional() && !h.IsControl() {
		if kh, perr := segment.ParseBatchHeader(out, len(out)); perr == nil && kh.RecordCount > 0 {
			c.txn.retained[h.ProducerID] = true
		}
	}
	return out, err
}

// filterMarker keeps a marker while a record of its transaction stays, then sets
// its delete horizon, and drops it (empties it, if it must stay as a segment's or
// producer's last batch) once the horizon has passed. DeleteRetention < 0 keeps
// markers.
func (c *cleaning) filterMarker(g *cleanGroup, h *segment.BatchHeader, batch []byte, segmentLast bool, pos int64) ([]byte, error) {
	retained := c.txn.retained[h.ProducerID]
	delete(c.txn.retained, h.ProducerID)
	if retained || c.p.opts.DeleteRetention < 0 {
		return batch, nil
	}
	horizon, hasHorizon := h.DeleteHorizon()
	if !hasHorizon {
		if err := c.dec.Reset(batch); err != nil {
			return nil, c.reader.corrupt(pos, err)
		}
		c.kept = c.kept[:0]
		for {
			ok, err := c.dec.Next(&c.rec)
			if err != nil {
				return nil, c.reader.corrupt(pos, err)
			}
			if !ok {
				break
			}
			c.kept = append(c.kept, c.rec)
		}
		out, err := segment.AppendFilteredBatch(c.out[:0], h, c.kept, c.nowMs+c.p.opts.DeleteRetention.Milliseconds())
		if err != nil || len(out) > c.p.storedMax {
			return batch, nil // keep it as it is; the next compaction tries again
		}
		c.out = out
		g.changed = true
		return out, nil
	}
	if horizon > c.nowMs {
		return batch, nil
	}
	g.changed = true
	g.removed += int64(h.RecordCount)
	if !segmentLast && c.plan.producerLast[h.ProducerID] != h.LastOffset() {
		return nil, nil
	}
	return c.emptied(h)
}

// emptied returns h's batch without records, which keeps its offsets (and its
// producer's sequence) in the log.
func (c *cleaning) emptied(h *segment.BatchHeader) ([]byte, error) {
	out, err := segment.AppendFilteredBatch(c.out[:0], h, nil, segment.NoDeleteHorizon)
	if err != nil {
		return nil, errorf("strata/partition: compact %s: empty the batch at offset %d: %w", c.p.dir, h.BaseOffset, err)
	}
	c.out = out
	return out, nil
}
