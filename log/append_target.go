package log

import (
	"context"
	"errors"

	"github.com/stratalog/strata/partition"
)

// appendFunc appends records as one batch: a partition's Append, or its Write
// (which does not wait for the fsync).
type appendFunc func(ctx context.Context, records []partition.Record) (int64, error)

// producerAppendFunc is an appendFunc that writes an idempotent producer's
// identity in the batch (nil: none): see partition.AppendOptions.Producer.
type producerAppendFunc func(ctx context.Context, records []partition.Record, producer *partition.Producer) (int64, error)

// appendTarget is where appendRecords writes the batches of one partition: the
// function that appends to it and, in a one-broker store, what it needs to follow
// the partition to its replacement when AlterTopicConfig closes it to open it
// again with a new config (a store of several brokers retries on its own, through
// the partition's leader).
type appendTarget struct {
	fn producerAppendFunc
	// sequence, if not nil, numbers the batches of an idempotent Producer.
	sequence *partitionSequence
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
		return appendTarget{fn: t.group.replicatedProducerAppender(t.replicas[i], acks)}, nil, nil
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

// partitionAppender returns p's Append for AcksAll, else its Write, or with a
// producer identity its AppendWith.
func partitionAppender(p *partition.Partition, acks Acks) producerAppendFunc {
	return func(ctx context.Context, records []partition.Record, producer *partition.Producer) (int64, error) {
		switch {
		case producer != nil:
			return p.AppendWith(ctx, records, &partition.AppendOptions{Producer: producer, NoWait: acks != AcksAll})
		case acks != AcksAll:
			return p.Write(ctx, records)
		}
		return p.Append(ctx, records)
	}
}

// maxReplacements bounds how many replacements one batch follows its partition to.
const maxReplacements = 3

// append appends records as one batch, numbered by a.sequence if it is set. If
// the partition refused it because it was closed to be opened again with a new
// config, append waits for the new partition and appends there, as a Kafka
// producer never notices a config change. A closed partition refuses an append
// before writing anything; a batch written before the close and not made durable
// by it fails with ErrOutcomeUnknown instead, and is appended again only with a
// producer identity, which makes the new partition recognise it if it holds it.
func (a *appendTarget) append(ctx context.Context, records []partition.Record) (int64, error) {
	if a.sequence != nil {
		return a.sequence.append(ctx, records, a.appendOnce)
	}
	return a.appendOnce(ctx, records, nil)
}

// appendOnce appends records as one batch with producer's identity (nil: none),
// following the partition to its replacement: see append.
func (a *appendTarget) appendOnce(ctx context.Context, records []partition.Record, producer *partition.Producer) (int64, error) {
	base, err := a.fn(ctx, records, producer)
	for range maxReplacements {
		if err == nil || a.s == nil || !errors.Is(err, ErrClosed) || (producer == nil && errors.Is(err, partition.ErrOutcomeUnknown)) {
			break
		}
		next := a.s.replacement(ctx, a.tp, a.incarnation, a.p)
		if next == nil {
			break
		}
		a.p, a.fn = next, partitionAppender(next, a.acks)
		base, err = a.fn(ctx, records, producer)
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
