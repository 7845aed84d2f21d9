package main

import (
	"errors"

	"github.com/stratalog/strata/log"
)

// isolationLevels are the values of consume's --isolation-level, Kafka's names.
var isolationLevels = map[string]log.IsolationLevel{
	log.ReadUncommitted.String(): log.ReadUncommitted,
	log.ReadCommitted.String():   log.ReadCommitted,
}

// parseIsolationLevel returns the level --isolation-level names.
func parseIsolationLevel(c *commandFlags, name string) (log.IsolationLevel, error) {
	level, ok := isolationLevels[name]
	if !ok {
		return 0, c.usageError("--isolation-level %q: want read_committed or read_uncommitted", name)
	}
	return level, nil
}

// endOffsets returns the end offset of each partition of topic as a consumer in
// level sees it: the last stable offset in read_committed. Offline partitions are
// left out: consume reports them when it reads them.
func endOffsets(store *log.Store, topic string, level log.IsolationLevel) (map[int32]int64, error) {
	ends, err := store.ListEndOffsetsFor(level, topic)
	if err != nil && !onlyOffline(err) {
		return nil, err
	}
	out := make(map[int32]int64, len(ends))
	for tp, end := range ends {
		out[tp.Partition] = end
	}
	return out, nil
}

// onlyOffline reports whether err, as ListEndOffsetsFor joins them, is only
// partitions being offline.
func onlyOffline(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !errors.Is(e, log.ErrPartitionOffline) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, log.ErrPartitionOffline)
}

// endProbe tells whether a partition still holds a record for consume to print
// below the offset where it stops: offsets without one (transaction markers,
// aborted transactions in read_committed, records compaction removed) may lie
// between a position and the end, and a Poll there would wait forever. It reads
// with consumers of its own, one per partition (each keeps its reader and
// buffer from one probe to the next), at consume's isolation level.
type endProbe struct {
	store     *log.Store
	level     log.IsolationLevel
	consumers map[log.TopicPartition]*log.Consumer
}

func newEndProbe(store *log.Store, level log.IsolationLevel) *endProbe {
	return &endProbe{store: store, level: level, consumers: map[log.TopicPartition]*log.Consumer{}}
}

// recordBelow reports whether tp holds a record at from or later and below end.
func (p *endProbe) recordBelow(tp log.TopicPartition, from, end int64) (bool, error) {
	if from >= end {
		return false, nil
	}
	c := p.consumers[tp]
	if c == nil {
		// One record at a time, fetched a batch at a time: a probe reads the
		// batch at the position, rarely more.
		var err error
		if c, err = p.store.NewConsumer(log.ConsumerOptions{MaxPollRecords: 1, MaxPollBytes: 1, IsolationLevel: p.level}); err != nil {
			return false, err
		}
		p.consumers[tp] = c
		if err := c.Assign(tp); err != nil {
			return false, err
		}
	}
	if err := c.Seek(tp, from); err != nil {
		return false, err
	}
	r, err := c.TryNext()
	return r != nil && r.Offset < end, err
}

func (p *endProbe) close() {
	for _, c := range p.consumers {
		c.Close()
	}
}
