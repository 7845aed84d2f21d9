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
// with a consumer of its own, at consume's isolation level.
type endProbe struct {
	consumer *log.Consumer
}

func newEndProbe(store *log.Store, level log.IsolationLevel) (*endProbe, error) {
	// One record at a time, fetched a batch at a time: a probe reads the batch at
	// the position, rarely more.
	c, err := store.NewConsumer(log.ConsumerOptions{MaxPollRecords: 1, MaxPollBytes: 1, IsolationLevel: level})
	if err != nil {
		return nil, err
	}
	return &endProbe{consumer: c}, nil
}

// recordBelow reports whether tp holds a record at from or later and below end.
func (p *endProbe) recordBelow(tp log.TopicPartition, from, end int64) (bool, error) {
	if from >= end {
		return false, nil
	}
	if err := p.consumer.Assign(tp); err != nil {
		return false, err
	}
	if err := p.consumer.Seek(tp, from); err != nil {
		return false, err
	}
	r, err := p.consumer.TryNext()
	return r != nil && r.Offset < end, err
}

func (p *endProbe) close() { p.consumer.Close() }
