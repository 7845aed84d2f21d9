package log

import (
	"context"
	"errors"

	"github.com/stratalog/strata/partition"
)

// appendFunc appends records as one batch: a partition's Append, or its Write
// (which does not wait for the fsync).
type appendFunc func(ctx context.Context, records []partition.Record) (int64, error)

// appendTarget is where appendRecords writes the batches of one partition: the
// function that appends to it and, in a one-broker store, what it needs to follow
// the partition to its replacement when AlterTopicConfig closes it to open it
// again with a new config (a store of several brokers retries on its own, through
// the partition's leader).
type appendTarget struct {
	fn appendFunc
	// s is nil when no replacement is looked for.
	s           *Store
	tp          TopicPartition
	incarnation uint64
	p           *partition.Partition
	acks        Acks
}

// appender returns how partition i of t takes a batch at acks: through its leader
// in a store of several brokers; else the partition's Append (AcksAll) or Write
// (acknowledged at the write, fsynced in the background). It returns the
// partition too, nil in a store of several brokers.
func (s *Store) appender(t *topic, i int32, acks Acks) (appendTarget, *partition.Partition, error) {
	if t.replicas != nil {
		return appendTarget{fn: t.group.replicatedAppender(t.replicas[i], acks)}, nil, nil
	}
	p, err := t.partitionAt(i)
	if err != nil {
		return appendTarget{}, nil, err
	}
	target := appendTarget{
		fn: partitionAppender(p, acks), s: s,
		tp: TopicPartition{Topic: t.name, Partition: i}, incarnation: t.incarnation, p: p, acks: acks,
	}
	return target, p, nil
}

// partitionAppender returns p's Append for AcksAll, else its Write.
func partitionAppender(p *partition.Partition, acks Acks) appendFunc {
	if acks != AcksAll {
		return p.Write
	}
	return p.Append
}

// maxReplacements bounds how many replacements one batch follows its partition to.
const maxReplacements = 3

// append appends records as one batch. If the partition refused it because it was
// closed to be opened again with a new config, append waits for the new partition
// and appends there, as a Kafka producer never notices a config change. A closed
// partition refuses an append before writing anything; a batch written before the
// close and not made durable by it fails with ErrOutcomeUnknown instead, and is not
// appended again.
func (a *appendTarget) append(ctx context.Context, records []partition.Record) (int64, error) {
	base, err := a.fn(ctx, records)
	for range maxReplacements {
		if err == nil || a.s == nil || !errors.Is(err, ErrClosed) || errors.Is(err, partition.ErrOutcomeUnknown) {
			break
		}
		next := a.s.replacement(ctx, a.tp, a.incarnation, a.p)
		if next == nil {
			break
		}
		a.p, a.fn = next, partitionAppender(next, a.acks)
		base, err = a.fn(ctx, records)
	}
	return base, err
}

// replacement waits while p, partition tp of the topic incarnation, is being opened
// again by AlterTopicConfig, and returns the partition that replaced it; nil if
// there is none (p is current, tp is offline, its topic was deleted, the store is
// closing) or ctx ended.
func (s *Store) replacement(ctx context.Context, tp TopicPartition, incarnation uint64, p *partition.Partition) *partition.Partition {
	if replaced := s.reopeningOf(p); replaced != nil {
		select {
		case <-replaced:
		case <-ctx.Done():
			return nil
		}
	}
	if s.closed.Load() {
		return nil
	}
	return s.reopened(tp, incarnation, p)
}
