package log

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// Produce writes records synchronously and returns once every one is acknowledged
// under its topic's sync policy: with SyncEveryAppend (the default) once fsynced.
// It sets each record's Partition (unless ExplicitPartition), Offset, and a zero
// Timestamp to the store's clock. The records of one partition are written in the
// order given, as one batch when they fit in the topic's MaxBatchBytes (else as few
// batches as do); different partitions are written concurrently, so that their
// fsyncs overlap. Store.Produce is AcksDurable; see Producer for batching across
// calls and for the other acknowledgement levels.
//
// A nil record (ErrInvalidArgument), an unknown topic (ErrUnknownTopic), an
// internal topic (ErrInternalTopic), a partition outside the topic
// (ErrUnknownPartition) or an offline one (ErrPartitionOffline: the partitioner's
// choice is not changed, so that a key keeps its partition) fails the whole call
// before anything is written. Otherwise, on error, the batches of some partitions may have
// been written: their records have Offset set, the others keep Offset -1, and the
// error joins one error per failed partition. A record larger than the topic's
// MaxBatchBytes is ErrRecordTooLarge (the other records are written). If ctx ends while Produce waits for an fsync
// it returns an error matching ctx.Err() and ErrOutcomeUnknown (errors.Is): the
// records may still be written, as with a timed-out Kafka produce.
func (s *Store) Produce(ctx context.Context, records ...*Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	set, err := s.snapshot()
	if err != nil {
		return err
	}
	var t *topic
	for i, r := range records {
		if r != nil && (t == nil || t.name != r.Topic) { // consecutive records mostly share a topic
			t = set[r.Topic]
		}
		if err := checkRecordOf(t, r); err != nil {
			return errorf("strata/log: produce record %d: %w", i, err)
		}
	}
	now := s.opts.Now()
	buf := produceBuffers.Get().(*produceBuffer)
	defer buf.release()
	// Route every record, numbering the partitions in order of appearance, and
	// convert it for the partition; then, unless they all go to one partition, lay
	// the converted records out by partition (a counting sort). Buffers are reused
	// across calls: no allocation per record, and one pass over the records in the
	// common case of a single partition.
	var (
		groups    []produceGroup
		index     map[TopicPartition]int
		last      = -1
		ofGroup   = buf.ofGroup[:0]
		converted = slices.Grow(buf.converted[:0], len(records))[:len(records)]
	)
	buf.converted = converted
	t = nil
	for i, r := range records {
		if t == nil || t.name != r.Topic {
			t, last = set[r.Topic], -1
		}
		if err := route(r, t, s.opts.Partitioner); err != nil {
			return errorf("strata/log: produce record %d: %w", i, err)
		}
		if r.Timestamp.IsZero() {
			r.Timestamp = now
		}
		r.Offset = -1
		setPartitionRecord(&converted[i], r)
		g := last
		if g < 0 || groups[g].tp.Partition != r.Partition { // consecutive records mostly share a partition
			tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
			if _, err := t.partitionAt(r.Partition); err != nil {
				return errorf("strata/log: produce record %d: %w", i, err)
			}
			var ok bool
			if g, ok = index[tp]; !ok {
				g = len(groups)
				if index == nil {
					index = map[TopicPartition]int{}
				}
				index[tp] = g
				target, p, err := s.appender(t, tp.Partition, AcksAll)
				if err != nil {
					return errorf("strata/log: produce record %d: %w", i, err)
				}
				groups = append(groups, produceGroup{tp: tp, p: p, target: target, maxBatchBytes: t.config.MaxBatchBytes})
			}
			last = g
		}
		ofGroup = append(ofGroup, int32(g))
		groups[g].count++
	}
	buf.ofGroup = ofGroup
	if len(groups) == 1 {
		groups[0].records, groups[0].converted = records, converted
		return s.appendGroup(ctx, &groups[0])
	}
	byPartition := slices.Grow(buf.byPartition[:0], len(records))[:len(records)]
	sorted := slices.Grow(buf.sorted[:0], len(records))[:len(records)]
	buf.byPartition, buf.sorted = byPartition, sorted
	start := 0
	for g := range groups {
		groups[g].records = byPartition[start : start : start+groups[g].count]
		groups[g].converted = sorted[start : start : start+groups[g].count]
		start += groups[g].count
	}
	for i, r := range records {
		g := &groups[ofGroup[i]]
		g.records = append(g.records, r)
		g.converted = append(g.converted, converted[i])
	}
	errList := make([]error, len(groups))
	var wg sync.WaitGroup
	for i := range groups {
		wg.Go(func() { errList[i] = s.appendGroup(ctx, &groups[i]) })
	}
	wg.Wait()
	return errors.Join(errList...)
}

// produceBuffer is the scratch space of one Store.Produce call, reused across calls.
type produceBuffer struct {
	ofGroup     []int32
	byPartition []*Record
	converted   []partition.Record // in the caller's order
	sorted      []partition.Record // by partition, with several partitions
}

var produceBuffers = sync.Pool{New: func() any { return new(produceBuffer) }}

// release clears what refers to the caller's records and returns b to the pool.
// A buffer grown for an unusually large call is dropped, not kept.
func (b *produceBuffer) release() {
	if cap(b.converted) > maxPooledProduceRecords || cap(b.sorted) > maxPooledProduceRecords {
		return
	}
	clear(b.byPartition)
	clear(b.converted)
	clear(b.sorted)
	produceBuffers.Put(b)
}

// maxPooledProduceRecords bounds the records a pooled produceBuffer has room for.
const maxPooledProduceRecords = 64 << 10

// produceGroup is the records of one Produce call for one partition.
type produceGroup struct {
	tp            TopicPartition
	p             *partition.Partition // nil in a store of several brokers
	target        appendTarget
	maxBatchBytes int
	count         int // records
	records       []*Record
	converted     []partition.Record
}

func (s *Store) appendGroup(ctx context.Context, g *produceGroup) error {
	err := appendRecords(ctx, &g.target, g.converted, g.maxBatchBytes, func(i int, offset int64) { g.records[i].Offset = offset }, nil)
	if err != nil {
		return s.partitionError("produce to", g.tp, g.p, err)
	}
	return nil
}

// setPartitionRecord sets *dst to r as the partition stores it (sharing r's
// slices), field by field: assigning a composite literal builds it aside and copies
// it with a write barrier for the whole struct, which took 10 ns per record in
// Store.Produce.
func setPartitionRecord(dst *partition.Record, r *Record) {
	dst.Offset = 0
	dst.Timestamp = r.Timestamp.UnixMilli()
	dst.Key = r.Key
	dst.Value = r.Value
	dst.Headers = r.Headers
}

// checkRecord returns the error that makes r impossible to produce to set, if any:
// nil, an unknown topic, an explicit partition outside the topic, no key on a
// compacted topic (as Kafka refuses it: compaction keeps records by key).
func checkRecord(set topicSet, r *Record) error {
	if r == nil {
		return fmt.Errorf("nil record: %w", ErrInvalidArgument)
	}
	return checkRecordOf(set[r.Topic], r)
}

// checkRecordOf is checkRecord with r's topic looked up: t is nil if there is none.
func checkRecordOf(t *topic, r *Record) error {
	if r == nil {
		return fmt.Errorf("nil record: %w", ErrInvalidArgument)
	}
	if t == nil {
		return fmt.Errorf("topic %q: %w", r.Topic, ErrUnknownTopic)
	}
	if t.internal {
		return fmt.Errorf("topic %q: %w", r.Topic, ErrInternalTopic)
	}
	if r.ExplicitPartition && (r.Partition < 0 || int(r.Partition) >= len(t.partitions)) {
		return fmt.Errorf("topic %q has %d partitions, no partition %d: %w", r.Topic, len(t.partitions), r.Partition, ErrUnknownPartition)
	}
	if r.Key == nil && t.config.CleanupPolicy != CleanupDelete && t.config.compacts() { // the first test spares copying the config
		return fmt.Errorf("topic %q is compacted: a record needs a key: %w", r.Topic, ErrInvalidArgument)
	}
	return nil
}

// route sets r.Partition, unless ExplicitPartition, from the partitioner, and checks
// its answer. A DefaultPartitioner partitions keys as t records; any other
// Partitioner, one that embeds a DefaultPartitioner too, is asked through its
// Partition, which may override the embedded one.
func route(r *Record, t *topic, partitioner Partitioner) error {
	if r.ExplicitPartition {
		return nil
	}
	numPartitions := len(t.partitions)
	var p int
	if d, ok := partitioner.(*DefaultPartitioner); ok {
		p = d.partitionWith(r, numPartitions, t.keyHash)
	} else {
		p = partitioner.Partition(r, numPartitions)
	}
	if p < 0 || p >= numPartitions {
		return fmt.Errorf("partitioner chose partition %d of topic %q, which has %d: %w", p, r.Topic, numPartitions, ErrUnknownPartition)
	}
	r.Partition = int32(p)
	return nil
}

// appendRecords writes records to target's partition in order, in as few batches of at most
// maxBatchBytes as an upper bound of their size allows, and calls setOffset(i, o)
// for each record written: records[i] got offset o. A record too large for a batch
// on its own is refused alone (refuse(i, err)) and the others are written; the
// returned error then joins those refusals. Any other failure stops it: setOffset
// is not called for the failed batch's records nor for the later ones.
func appendRecords(ctx context.Context, target *appendTarget, records []partition.Record, maxBatchBytes int, setOffset func(i int, offset int64), refuse func(i int, err error)) error {
	var refused []error
	refuseOne := func(i int, err error) {
		refused = append(refused, err)
		if refuse != nil {
			refuse(i, err)
		}
	}
	for first := 0; first < len(records); {
		n := batchLen(records[first:], maxBatchBytes)
		if err := appendBatch(ctx, target, records[first:first+n], first, setOffset, refuseOne); err != nil {
			return errors.Join(append(refused, err)...)
		}
		first += n
	}
	return errors.Join(refused...)
}

// batchLen returns how many of the first records surely fit in one batch of
// maxBatchBytes (at least one).
func batchLen(records []partition.Record, maxBatchBytes int) int {
	size := segment.BatchHeaderSize
	for i := range records {
		size += recordBound(records[i].Key, records[i].Value, records[i].Headers)
		if size > maxBatchBytes && i > 0 {
			return i
		}
	}
	return len(records)
}

// appendBatch appends records, the first of which is records[first] of the caller,
// as one batch. If the partition refuses it as too large (compression can make a
// batch grow a little), it splits the batch in halves, down to single records, and
// refuses a single record that is too large by itself.
func appendBatch(ctx context.Context, target *appendTarget, records []partition.Record, first int, setOffset func(int, int64), refuse func(int, error)) error {
	base, err := target.append(ctx, records)
	if errors.Is(err, ErrRecordTooLarge) && len(records) > 1 {
		half := len(records) / 2
		if err := appendBatch(ctx, target, records[:half], first, setOffset, refuse); err != nil {
			return err
		}
		return appendBatch(ctx, target, records[half:], first+half, setOffset, refuse)
	}
	if errors.Is(err, ErrRecordTooLarge) {
		refuse(first, err) // this record alone is too large: the others go on
		return nil
	}
	if err != nil {
		return err
	}
	for i := range records {
		setOffset(first+i, base+int64(i))
	}
	return nil
}
