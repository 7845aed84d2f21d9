package log

import (
	"time"
)

// SeekToTime moves the consumer's position in tp, a partition it owns now, to
// the first record whose timestamp is at or after t (Kafka's offsetsForTimes), or
// to the end offset if there is none. As Seek, it does not commit. A partition the
// consumer does not own is ErrUnknownPartition.
func (g *GroupConsumer) SeekToTime(tp TopicPartition, t time.Time) error {
	return g.seekOwned([]TopicPartition{tp}, func() error { return g.mu.inner.SeekToTime(tp, t) })
}

// SeekToBeginning moves each of tps (every partition the consumer owns now if none
// is given) to its start offset, to read the partition again from its first
// record. As Seek, it does not commit; a partition the consumer does not own is
// ErrUnknownPartition, and nothing moves.
func (g *GroupConsumer) SeekToBeginning(tps ...TopicPartition) error {
	return g.seekOwned(tps, func() error { return g.mu.inner.SeekToBeginning(tps...) })
}

// SeekToEnd moves each of tps (every partition the consumer owns now if none is
// given) to its end offset: the next Poll returns only records produced after this
// call. As Seek, it does not commit; a partition the consumer does not own is
// ErrUnknownPartition, and nothing moves.
func (g *GroupConsumer) SeekToEnd(tps ...TopicPartition) error {
	return g.seekOwned(tps, func() error { return g.mu.inner.SeekToEnd(tps...) })
}

// seekOwned runs seek on the inner consumer, then takes the new positions of tps
// (every owned partition if none) as delivered and processed, as Seek does.
func (g *GroupConsumer) seekOwned(tps []TopicPartition, seek func() error) error {
	if err := g.usable(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := seek(); err != nil {
		return err
	}
	if len(tps) == 0 {
		tps = g.mu.inner.Assignment()
	}
	for _, tp := range tps {
		if position, err := g.mu.inner.Position(tp); err == nil {
			g.mu.delivered[tp], g.mu.processed[tp] = position, position
		}
	}
	g.progressedLocked()
	return nil
}

// Lag returns how many offsets of tp, a partition the consumer owns and reads now,
// lie between its position and the partition's end offset (Kafka's records-lag):
// 0 once it has read everything produced so far. In ReadCommitted the end is the
// last stable offset, as for Kafka's read_committed consumers. A partition it does not own, or
// is giving up (being revoked), is ErrUnknownPartition; an offline partition, which
// it does not read, is its *PartitionOfflineError (ErrPartitionOffline). On a compacted
// topic, or after DeleteRecords, it counts offsets, not records.
func (g *GroupConsumer) Lag(tp TopicPartition) (int64, error) {
	if err := g.usable(); err != nil {
		return 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lagLocked(tp)
}

func (g *GroupConsumer) lagLocked(tp TopicPartition) (int64, error) {
	position, err := g.mu.inner.Position(tp)
	if err != nil {
		return 0, err
	}
	p, err := g.s.lookupPartition(tp)
	if err != nil {
		return 0, err
	}
	return max(endOffsetFor(p, g.opts.IsolationLevel)-position, 0), nil
}

// CaughtUp reports whether the consumer has joined its group and read every record
// produced before the call in every partition it owns and reads: each position is
// at its partition's end offset (in ReadCommitted, its last stable offset). It is false until the consumer received its first
// assignment and started reading every partition of it (from the committed
// offsets, which may take a moment to fetch), and true for a member that owns no
// partition (the group has more members than partitions). An application that
// rebuilds state from a topic at start-up (a table from a compacted topic) polls
// until CaughtUp is true, then serves (each Poll with a deadline: Poll waits for
// records, and a partition read to its end, or empty, has none; see the
// example); a rebalance may then hand it partitions it
// has not read, which makes CaughtUp false again. An offline partition the
// consumer owns is not read, and does not count; one back online counts again.
func (g *GroupConsumer) CaughtUp() (bool, error) {
	if err := g.usable(); err != nil {
		return false, err
	}
	// The member first: once it is settled with nothing pending, every partition
	// it owns was put into the inner consumer (read returned before OnAssigned
	// did), so the inner consumer's assignment, looked at next, covers them.
	if a := g.member.Assignment(); a.Generation < 0 || len(a.Pending) > 0 {
		return false, nil // not settled in a generation yet, or taking an assignment
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.starting > 0 {
		return false, nil // a partition back online not read yet
	}
	for _, tp := range g.mu.inner.Assignment() {
		lag, err := g.lagLocked(tp)
		if err != nil {
			return false, err
		}
		if lag > 0 {
			return false, nil
		}
	}
	return true, nil
}
