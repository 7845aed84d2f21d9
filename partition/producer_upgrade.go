package partition

// The first Open of a partition written before producer snapshots existed, after
// a clean shutdown, mirrors Kafka's upgrade rule (UnifiedLog.rebuildProducerState):
// a clean shutdown that left no snapshot at all means a log written by a version
// without them, whose producer state is not worth a read of every segment (nearly
// a full read of a large partition, and old damage deep in the log could fail
// Open). The state is rebuilt from the last two segments only, and snapshots are
// written at their bases and at the log end, so that the next Open, a truncation or
// a roll finds one. Kafka replays nothing then and writes empty snapshots; strata
// replays the last two segments (an empty snapshot at the base of the older one), so
// that a retry of a producer's newest batches is still a duplicate.
//
// What it gives up, as Kafka does: producers whose batches all lie below the last
// two segments are unknown (their next batch is taken at any sequence, KIP-360's
// rule for an unknown producer). A transaction still open at the log end that began
// below them would start too late: if the replay finds any transaction open, the
// state is rebuilt from the first segment instead, as before; a transaction open
// with no batch at all in the last two segments is not seen. After an unclean
// shutdown, or when any snapshot exists, Open loads and replays as always: Close
// records a clean shutdown only after its snapshot at the log end is on disk.

// upgradeProducersLocked rebuilds the producer state of a partition that Open found
// cleanly shut down without any snapshot (see above). Open calls it.
func (p *Partition) upgradeProducersLocked() error {
	p.mu.RLock()
	segments, end := p.mu.segments, p.mu.written.offset
	p.mu.RUnlock()
	tail := segments[max(len(segments)-2, 0):]
	p.producers, p.producersUnread = newProducerStates(), false
	// The markers below the tail ended transactions unknown here: the decided
	// transactions are known from the tail on, as from a snapshot at its base.
	p.forgetDecidedFromLocked(tail[0].Base())
	states := make([][]byte, len(tail)) // the snapshot at each tail segment's base
	var r replay
	for i, s := range tail {
		// A producer known only from a marker (its batches below) is unknown, as
		// every producer below the tail: an entry with an epoch and no sequence
		// would refuse its next batch as out of order.
		p.producers.dropWithoutBatches()
		states[i] = encodeSnapshot(&p.producers)
		if err := p.replaySegmentLocked(&r, s, s.Base()); err != nil {
			return err
		}
	}
	p.producers.dropWithoutBatches()
	if first := p.producers.firstOngoing(); first >= 0 {
		p.logger.Info("an open transaction may have begun before the last two segments: rebuilding the producer state from the first segment", "first", first)
		return p.loadProducersLocked(true)
	}
	p.logger.Info("clean shutdown without producer snapshots (a log written before them): producer state rebuilt from the last two segments", "from", tail[0].Base())
	for i, s := range tail {
		p.writeSnapshotLocked(s.Base(), states[i])
	}
	p.producers.expire(p.opts.Now().UnixMilli(), p.opts.ProducerIDExpiration.Milliseconds())
	p.publishTransactionsLocked()
	p.takeSnapshotLocked(end)
	return nil
}
