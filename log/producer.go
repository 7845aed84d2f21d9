package log

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// Acks is the acknowledgement level of a Producer: when a record's promise is
// called. The zero value is AcksAll.
type Acks int

const (
	// AcksAll (the default, Kafka's acks=all or -1) calls the promise once every
	// in-sync replica holds the batch under its topic's sync policy (the high
	// watermark covers it): with SyncEveryAppend once an fsync covers it on each
	// (appends to one partition share fsyncs: group commit), with SyncPeriodic or
	// SyncNone once it is written to the OS. With one replica, it is the leader's
	// own acknowledgement. A topic whose in-sync replicas are fewer than its
	// MinInsyncReplicas refuses the batch with ErrNotEnoughReplicas.
	AcksAll Acks = iota
	// AcksLeader calls the promise once the batch is written to the OS (Kafka's
	// acks=1): on a SyncEveryAppend topic before its fsync, which runs in the
	// background (consumers see the records once it completes). A process crash
	// loses nothing written; a machine crash may lose what was not yet fsynced.
	AcksLeader
	// AcksNone calls the promise as soon as the record is buffered (Kafka's acks=0),
	// with Offset -1. The record's bytes are copied, so the caller may reuse them at
	// once. A later write failure is logged and returned by the next Flush or Close.
	AcksNone

	// AcksDurable is AcksAll's name from before replicas: with one replica, the
	// leader's acknowledgement under the sync policy.
	AcksDurable = AcksAll
)

// String returns Kafka's name of the level: "all", "leader" (acks=1) or "none"
// (acks=0).
func (a Acks) String() string {
	switch a {
	case AcksAll:
		return "all"
	case AcksLeader:
		return "leader"
	case AcksNone:
		return "none"
	}
	return fmt.Sprintf("Acks(%d)", int(a))
}

// Defaults for ProducerOptions fields left at zero.
const (
	// DefaultLinger is how long a batch waits for more records: Kafka's linger.ms in
	// recent clients.
	DefaultLinger = 5 * time.Millisecond
	// DefaultMaxBufferedBytes bounds the bytes of records a Producer holds before
	// Produce blocks.
	DefaultMaxBufferedBytes = 64 << 20
)

// ProducerOptions configure a Producer. The zero value is valid and means the
// defaults.
type ProducerOptions struct {
	// Linger is how long a partition's open batch waits for more records before it
	// is written. Default 5 ms; negative: do not wait (a batch then holds whatever
	// arrived while the previous batch of its partition was being written).
	Linger time.Duration
	// BatchBytes closes a partition's open batch once its records reach about this
	// many bytes (or the topic's MaxBatchBytes, if smaller). Default 16 KiB. It is
	// also the sticky partitioner's switch size.
	BatchBytes int
	// Acks is when promises are called. Default AcksDurable.
	Acks Acks
	// Partitioner chooses partitions. Default NewDefaultPartitioner(BatchBytes).
	Partitioner Partitioner
	// MaxBufferedBytes bounds the bytes of records accepted and not yet acknowledged;
	// Produce blocks while it is reached, and the open batches are then written
	// without waiting for Linger (as Kafka's producer does while buffer.memory is
	// exhausted). A blocked Produce resumes once its record fits and an eighth of
	// MaxBufferedBytes is free (or a partition's batches are all written), so that
	// a producer far ahead of the disk wakes once per few MiB written rather than
	// per batch. Default 64 MiB.
	MaxBufferedBytes int
	// DisableIdempotence turns off what makes an AcksAll producer idempotent (on
	// by default, as in Kafka since 3.0): a producer id taken at NewProducer, and
	// in every batch the id, an epoch and the partition's next sequence, so that
	// a batch written again after a failure whose outcome was unknown is
	// recognised and not stored twice (see Producer). AcksLeader and AcksNone
	// producers are never idempotent: Kafka refuses enable.idempotence without
	// acks=all, since an acknowledgement that does not wait for the replicas
	// cannot tell a retry whether the first attempt is kept.
	DisableIdempotence bool
	// TransactionalID makes the producer transactional (Kafka's
	// transactional.id): it produces inside transactions (BeginTransaction,
	// CommitTransaction, AbortTransaction), whose records read_committed
	// consumers see all at once when the transaction commits, and never if it
	// aborts. NewProducer registers the id with the store's transaction
	// coordinator, which fences any earlier producer with the same id and aborts
	// its transaction in progress. It needs AcksAll and idempotence. Default
	// "": not transactional.
	TransactionalID string
	// TransactionTimeout is how long a transaction may stay open before the
	// coordinator aborts it (Kafka's transaction.timeout.ms); at most the store's
	// Options.MaxTransactionTimeout. Default 1 minute.
	TransactionTimeout time.Duration
}

// Producer writes records asynchronously: Produce buffers a record in its
// partition's open batch and returns; a batch is written when it reaches
// BatchBytes, when Linger has passed, or on Flush; the record's promise is called
// when it is acknowledged (see Acks). Each batch is one partition.Append, compressed
// with the topic's codec. Records of one partition are written, and their promises
// called, in the order Produce accepted them; a partition has at most one batch being
// written at a time, and batches queued behind it are written together.
//
// An AcksAll Producer is idempotent unless DisableIdempotence (Kafka's
// enable.idempotence, on by default since Kafka 3.0): NewProducer takes a producer
// id from the store, never handed out before, and each batch carries the id, an
// epoch and the partition's next sequence number. A batch retried after an outcome
// that was unknown (in a store of several brokers, the leader changed or its disk
// failed before acknowledging it; in any store, AlterTopicConfig reopened its
// partition meanwhile) is recognised by the partition, the new leader too, and
// answered with its original offsets instead of being written again. A failure that
// may leave a gap in a partition's sequence moves the producer to its next epoch,
// under which every partition starts over at sequence 0 (Kafka's KIP-360): the
// failed records (their promises got the error) are in the log at most once, and
// later ones follow in order. Idempotence holds within one Producer: records the
// application produces again after an error are new records.
//
// A Producer is safe for concurrent use. Its goroutines (one per partition while it
// has batches to write, and the linger timers) stop by Close, which the store's
// Close calls too.
type Producer struct {
	s    *Store
	opts ProducerOptions
	// idempotence is the producer's identity, nil if it is not idempotent.
	idempotence *idempotence
	// txn is the transaction state of a transactional producer, else nil
	// (producer_txn.go).
	txn *transactional

	mu struct {
		sync.Mutex
		closed     bool
		batchers   map[TopicPartition]*batcher
		last       *batcher      // the batcher of the last record added: most records follow it
		buffered   int           // bytes of records accepted and not yet completed
		inFlight   int           // records accepted and not yet completed
		changed    chan struct{} // closed and replaced when buffered or inFlight fall
		unreported []error       // AcksNone failures since the last Flush
		// free holds written batches for the next ones (see freeBatchesLocked).
		free []*producerBatch
	}

	wg        sync.WaitGroup // senders and pending linger timers
	closeOnce sync.Once
	closeErr  error
}

// batcher is one partition's batches, guarded by Producer.mu.
type batcher struct {
	tp        TopicPartition
	open      *producerBatch // the batch records are added to, or nil
	openBytes int            // upper bound of the open batch's size
	// timer is the linger timer, made once and reused (a timer per batch was two
	// allocations per batch); it is armed for the open batch until lingerEnds.
	timer      *time.Timer
	timerArmed bool
	lingerEnds time.Time
	sealed     []*producerBatch // batches waiting to be written, oldest first
	sending    bool             // a sender goroutine is running
	lastLen    int              // records in the last sealed batch: the next one's capacity
	// roundBytes is how many bytes of sealed batches a sender writes at a time, as
	// of the last record added (see sendRoundBytes).
	roundBytes int
	// sequence numbers the partition's batches of an idempotent producer (nil if
	// not); only the sender uses it.
	sequence *partitionSequence
	// txnGeneration is the transaction of a transactional producer that the
	// batcher last told about its partition (transactional.want).
	txnGeneration uint64
}

// producerBatch is a batch of records as Produce accepted them. It holds only what
// the sender needs besides the records themselves (the promise, the offset), 24
// bytes a record: a producer far ahead of its partition holds MaxBufferedBytes of
// records in batches, and memory the process must fault in and the garbage
// collector must scan is what made it slower than the append it feeds
// (BenchmarkProduce/api=async). The sender converts the records for the partition
// into a buffer it reuses.
type producerBatch struct {
	pending []pendingRecord
	bytes   int             // upper bound of the batch's size, once sealed
	refused []refusedRecord // records the partition refused alone (too large), in order
}

// refusedRecord is a record of a batch refused alone, and why.
type refusedRecord struct {
	index int // in the batch's pending
	err   error
}

// producerBatches holds batches of idle producers for reuse by any producer.
var producerBatches = sync.Pool{New: func() any { return new(producerBatch) }}

// maxFreeBatches bounds the written batches a busy Producer keeps for its next
// ones: a sender frees a round at a time (up to sendRoundBytes, 8 batches of the
// default size), which the producer then fills again. A sync.Pool alone is emptied
// by every garbage collection, and a producer ahead of the disk then allocated
// (and the process faulted in) a batch's arrays again: 227 KB for a batch of
// 1 MiB.
const maxFreeBatches = 16

// newBatchLocked returns an empty batch with room for capacity records.
func (p *Producer) newBatchLocked(capacity int) *producerBatch {
	var batch *producerBatch
	if n := len(p.mu.free); n > 0 {
		batch = p.mu.free[n-1]
		p.mu.free[n-1] = nil
		p.mu.free = p.mu.free[:n-1]
	} else {
		batch = producerBatches.Get().(*producerBatch)
	}
	if cap(batch.pending) < capacity {
		batch.pending = make([]pendingRecord, 0, capacity)
	}
	batch.pending, batch.bytes, batch.refused = batch.pending[:0], 0, batch.refused[:0]
	return batch
}

// freeBatchesLocked keeps written batches for the next ones, or once the producer
// has nothing in flight gives them all to producerBatches: an idle producer holds
// no arrays. Their records stay reachable until overwritten or dropped, which is
// cheaper than clearing them after each write.
func (p *Producer) freeBatchesLocked(batches []*producerBatch) {
	for _, batch := range batches {
		if len(p.mu.free) < maxFreeBatches {
			p.mu.free = append(p.mu.free, batch)
		} else {
			producerBatches.Put(batch)
		}
	}
	if p.mu.inFlight == 0 {
		for i, batch := range p.mu.free {
			producerBatches.Put(batch)
			p.mu.free[i] = nil
		}
		p.mu.free = p.mu.free[:0]
	}
}

// sendRoundBytes bounds the bytes of sealed batches a sender joins into one write
// when the write waits for nothing (no fsync, no replica): measured on Linux
// (tmpfs and ext4, 2026-12-05, bench BenchmarkProduce/api=async), joining up to
// 1 MiB took twice the kernel time per byte of joining up to 128 KiB, and 256 KiB
// was already slower. When the write waits for an fsync or for replicas, rounds go
// up to the topic's MaxBatchBytes, so that the wait is shared by as many records as
// one batch holds.
const sendRoundBytes = 128 << 10

// roundBytes returns the batcher's roundBytes for topic t at acks.
func roundBytes(t *topic, acks Acks) int {
	if acks == AcksAll && (t.replicas != nil || t.config.Sync.Mode == SyncEveryAppend) {
		return t.config.MaxBatchBytes
	}
	return min(t.config.MaxBatchBytes, sendRoundBytes)
}

// convertedBuffers holds the buffers a sender converts a round of batches into.
var convertedBuffers = sync.Pool{New: func() any { return new([]partition.Record) }}

// pendingRecord is a record accepted by Produce: small, since batches hold many.
type pendingRecord struct {
	// record is what is written: the caller's record, or under AcksNone a private
	// copy (the caller may reuse its record at once).
	record  *Record
	promise func(*Record, error) // nil under AcksNone
	offset  int64                // -1 until written
}

// NewProducer returns a Producer writing to the store. Invalid options are a
// *ConfigError naming every invalid field. An idempotent producer (AcksAll, the
// default) takes a producer id, which may write producer-ids.json (once per 1,000
// ids): a failure to write or read it fails NewProducer.
func (s *Store) NewProducer(opts ProducerOptions) (*Producer, error) {
	var problems []string
	if opts.BatchBytes < 0 {
		problems = append(problems, fmt.Sprintf("BatchBytes: %d is negative", opts.BatchBytes))
	}
	if opts.MaxBufferedBytes < 0 {
		problems = append(problems, fmt.Sprintf("MaxBufferedBytes: %d is negative", opts.MaxBufferedBytes))
	}
	if opts.Acks < AcksDurable || opts.Acks > AcksNone {
		problems = append(problems, fmt.Sprintf("Acks: %v is not an acknowledgement level", opts.Acks))
	}
	if opts.TransactionalID != "" && (opts.Acks != AcksAll || opts.DisableIdempotence) {
		problems = append(problems, fmt.Sprintf("TransactionalID: %q needs Acks AcksAll and idempotence", opts.TransactionalID))
	}
	if opts.TransactionTimeout < 0 {
		problems = append(problems, fmt.Sprintf("TransactionTimeout: %v is negative", opts.TransactionTimeout))
	}
	if err := checkConfig("ProducerOptions", problems); err != nil {
		return nil, err
	}
	if opts.TransactionalID != "" && opts.TransactionTimeout == 0 {
		opts.TransactionTimeout = DefaultTransactionTimeout
	}
	if opts.Linger == 0 {
		opts.Linger = DefaultLinger
	}
	if opts.BatchBytes == 0 {
		opts.BatchBytes = DefaultBatchBytes
	}
	if opts.MaxBufferedBytes == 0 {
		opts.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if opts.Partitioner == nil {
		opts.Partitioner = NewDefaultPartitioner(opts.BatchBytes)
	}
	p := &Producer{s: s, opts: opts}
	switch {
	case opts.TransactionalID != "":
		var err error
		if p.txn, err = newTransactional(context.Background(), s, opts.TransactionalID, opts.TransactionTimeout); err != nil {
			return nil, err
		}
		p.idempotence = p.txn.identity
	case opts.Acks == AcksAll && !opts.DisableIdempotence:
		var err error
		if p.idempotence, err = newIdempotence(s); err != nil {
			return nil, err
		}
	}
	p.mu.batchers = map[TopicPartition]*batcher{}
	if err := s.register(p, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// Produce adds r to its partition's open batch and returns; promise (which may be
// nil) is called with r once r is acknowledged or failed, see Acks. Produce sets r's
// Partition (unless ExplicitPartition) and a zero Timestamp at once, and its Offset
// on acknowledgement (-1 until then, and on failure). Under AcksDurable and
// AcksLeader the caller must not modify r or its bytes until the promise runs.
//
// ctx bounds only the wait for buffer space (MaxBufferedBytes): once buffered, the
// record is written even if ctx ends. A record that cannot be produced (nil, unknown
// topic or partition, closed producer, ctx ended while waiting) has its promise
// called with the error before Produce returns, on the caller's goroutine; other
// promises run on the partition's sender goroutine, in offset order; they must not
// block for long, and must not call Flush or Close (which wait for them).
func (p *Producer) Produce(ctx context.Context, r *Record, promise func(*Record, error)) {
	if promise == nil {
		promise = func(*Record, error) {}
	}
	t, err := p.admit(r)
	if err == nil && p.txn != nil {
		err = p.txn.checkProduce()
	}
	if err != nil {
		promise(r, errorf("strata/log: produce: %w", err))
		return
	}
	record, recordPromise := r, promise
	acksNone := p.opts.Acks == AcksNone
	if acksNone {
		record, recordPromise = cloneRecord(r), nil
	}
	if err := p.add(ctx, t, record, recordPromise, recordBound(r.Key, r.Value, r.Headers)); err != nil {
		promise(r, errorf("strata/log: produce: %w", err))
		return
	}
	if acksNone {
		promise(r, nil)
	}
}

// admit checks r and routes it to a partition.
func (p *Producer) admit(r *Record) (*topic, error) {
	if r != nil {
		r.Offset = -1
	}
	set, err := p.s.snapshot()
	if err != nil {
		return nil, err
	}
	var t *topic
	if r != nil {
		t = set[r.Topic]
	}
	if err := checkRecordOf(t, r); err != nil {
		return nil, err
	}
	if err := route(r, t, p.opts.Partitioner); err != nil {
		return nil, err
	}
	if _, err := t.partitionAt(r.Partition); err != nil {
		return nil, err
	}
	if r.Timestamp.IsZero() {
		r.Timestamp = p.s.opts.Now()
	}
	return t, nil
}

// add waits for buffer space and adds r, of size bytes at most, to its partition's
// open batch.
func (p *Producer) add(ctx context.Context, t *topic, r *Record, promise func(*Record, error), size int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.mu.closed && p.mu.buffered > 0 && p.mu.buffered+size > p.opts.MaxBufferedBytes {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Space comes back as batches are written: write the open ones now rather
		// than after their Linger, as Kafka's producer makes every batch ready
		// while a thread waits for buffer memory.
		for _, b := range p.mu.batchers {
			if b.open != nil {
				p.sealLocked(b)
			}
		}
		changed := p.changedLocked()
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			p.mu.Lock()
			return ctx.Err()
		}
		p.mu.Lock()
	}
	if p.mu.closed {
		return ErrClosed
	}
	p.mu.buffered += size
	p.mu.inFlight++
	tp := TopicPartition{Topic: t.name, Partition: r.Partition}
	b := p.mu.last
	if b == nil || b.tp != tp {
		if b = p.mu.batchers[tp]; b == nil {
			b = &batcher{tp: tp}
			if p.idempotence != nil {
				b.sequence = &partitionSequence{producer: p.idempotence} // starts at sequence 0 under the identity of its first batch
			}
			p.mu.batchers[tp] = b
		}
		p.mu.last = b
	}
	b.roundBytes = roundBytes(t, p.opts.Acks)
	if p.txn != nil {
		p.txn.want(b)
	}
	if b.open != nil && segment.BatchHeaderSize+b.openBytes+size > t.config.MaxBatchBytes {
		// r would take the batch past what one append may hold (the sender would
		// write it as two): it opens the next batch.
		p.sealLocked(b)
	}
	if b.open == nil {
		b.open = p.newBatchLocked(max(b.lastLen, 8)) // room for a batch like the last: no regrowth
	}
	// Appended as a zero value, then set in place: appending a struct built aside
	// copied it with a write barrier for the whole struct.
	b.open.pending = append(b.open.pending, pendingRecord{})
	dst := &b.open.pending[len(b.open.pending)-1]
	dst.record, dst.promise, dst.offset = r, promise, -1
	b.openBytes += size
	switch {
	case segment.BatchHeaderSize+b.openBytes >= min(p.opts.BatchBytes, t.config.MaxBatchBytes):
		p.sealLocked(b)
	case p.opts.Linger < 0:
		if !b.sending {
			p.sealLocked(b)
		} // else the sender takes the open batch when it is done
	case len(b.open.pending) == 1:
		p.startTimerLocked(b)
	}
	return nil
}

// startTimerLocked arms the linger timer of b's open batch. Every firing the timer
// is set for holds one count of p.wg, released when its function returns or when
// Stop or Reset cancels it.
func (p *Producer) startTimerLocked(b *batcher) {
	b.timerArmed, b.lingerEnds = true, time.Now().Add(p.opts.Linger)
	p.wg.Add(1)
	if b.timer == nil {
		b.timer = time.AfterFunc(p.opts.Linger, func() { p.lingerEnded(b) })
	} else if b.timer.Reset(p.opts.Linger) {
		p.wg.Done() // a firing was still pending: replaced
	}
}

// lingerEnded is the function of b's linger timer: it seals the open batch once
// its linger has passed. A firing meant for an earlier batch (sealed while the
// firing waited for the lock) finds the time not yet passed and sets the timer for
// the rest of it, which replaces the firing already set for the same time.
func (p *Producer) lingerEnded(b *batcher) {
	defer p.wg.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !b.timerArmed {
		return
	}
	if rest := time.Until(b.lingerEnds); rest > 0 {
		p.wg.Add(1)
		if b.timer.Reset(rest) {
			p.wg.Done()
		}
		return
	}
	p.sealLocked(b)
}

// sealLocked closes b's open batch, queues it for writing and makes sure a sender
// runs.
func (p *Producer) sealLocked(b *batcher) {
	if b.timerArmed {
		b.timerArmed = false
		if b.timer.Stop() {
			p.wg.Done() // the firing is cancelled: its function will not run
		}
	}
	if b.open != nil && len(b.open.pending) > 0 {
		b.open.bytes = b.openBytes
		b.sealed = append(b.sealed, b.open)
		b.lastLen = len(b.open.pending)
		b.open, b.openBytes = nil, 0
	}
	if len(b.sealed) > 0 && !b.sending {
		b.sending = true
		p.wg.Add(1)
		go p.sendLoop(b)
	}
}

// sendLoop writes b's sealed batches until there are none left.
func (p *Producer) sendLoop(b *batcher) {
	defer p.wg.Done()
	// The buffer the records of a round are converted into stays with the sender
	// while it has rounds to write (a sync.Pool is emptied by every garbage
	// collection), and goes back to the pool when it stops.
	buf := convertedBuffers.Get().(*[]partition.Record)
	converted := (*buf)[:0]
	defer func() { *buf = converted[:0]; convertedBuffers.Put(buf) }()
	p.mu.Lock()
	for {
		if len(b.sealed) == 0 && p.opts.Linger < 0 && b.open != nil && len(b.open.pending) > 0 {
			b.open.bytes = b.openBytes
			b.sealed, b.open, b.openBytes = append(b.sealed, b.open), nil, 0
		}
		if len(b.sealed) == 0 {
			b.sending = false
			p.mu.Unlock()
			return
		}
		// The sealed batches go in one write, as many as roundBytes allows (at
		// least one): under SyncEveryAppend they share an fsync, and a producer far
		// ahead of the disk does not make the sender join everything it buffered.
		n, bytes := 1, segment.BatchHeaderSize+b.sealed[0].bytes
		for n < len(b.sealed) && bytes+b.sealed[n].bytes <= b.roundBytes {
			bytes += b.sealed[n].bytes
			n++
		}
		batches := b.sealed[:n:n]
		b.sealed = b.sealed[n:]
		if len(b.sealed) == 0 {
			b.sealed = nil
		}
		p.mu.Unlock()

		converted = p.send(b, batches, converted)

		p.mu.Lock()
		for _, batch := range batches {
			p.mu.buffered -= batch.bytes
			p.mu.inFlight -= len(batch.pending)
		}
		p.freeBatchesLocked(batches)
		if len(b.sealed) == 0 || p.mu.buffered <= p.opts.MaxBufferedBytes-p.opts.MaxBufferedBytes/resumeFraction {
			p.signalLocked()
		}
	}
}

// resumeFraction sets when a sender wakes the calls waiting for the producer
// (Produce blocked on MaxBufferedBytes, Flush): once 1/resumeFraction of
// MaxBufferedBytes is free, or when the sender has no more batches to write, rather
// than after every round. A producer far ahead of the disk then sleeps and wakes
// once per few MiB written instead of once per round (128 KiB): each wake-up was a
// few microseconds of the scheduler on both goroutines, about ten nanoseconds per
// record (BenchmarkProduce/api=async 16KiB, 2M records, medians of 8 processes:
// 273 ms of CPU instead of 282, 3,400 context switches instead of 4,000).
// Kafka's producer wakes a thread blocked on buffer.memory whenever a batch's
// memory is freed.
const resumeFraction = 8

// send writes batches to b's partition and calls their promises, in order. It
// converts the records into buf, and returns it for the next round.
func (p *Producer) send(b *batcher, batches []*producerBatch, buf []partition.Record) []partition.Record {
	tp := b.tp
	buf, err := p.write(b, batches, buf)
	if p.txn != nil {
		err = p.txn.failed(err, batches)
	}
	if err != nil && p.opts.Acks == AcksNone {
		n := 0
		for _, batch := range batches {
			n += len(batch.pending)
		}
		p.s.logger.Error("producer write failed (acks none)", "partition", tp.String(), "records", n, "err", err)
		p.mu.Lock()
		p.mu.unreported = append(p.mu.unreported, err)
		p.mu.Unlock()
		return buf
	}
	for _, batch := range batches {
		refused := batch.refused
		for i := range batch.pending {
			rec := &batch.pending[i]
			if len(refused) > 0 && refused[0].index == i {
				if rec.promise != nil {
					rec.promise(rec.record, refused[0].err)
				}
				refused = refused[1:]
				continue
			}
			switch {
			case rec.promise == nil:
			case rec.offset >= 0:
				rec.record.Offset = rec.offset
				rec.promise(rec.record, nil)
			default:
				rec.promise(rec.record, err)
			}
		}
	}
	return buf
}

// write appends the records of batches to b's partition, in order, converted into
// buf (returned for reuse); records written get their offsets.
func (p *Producer) write(b *batcher, batches []*producerBatch, buf []partition.Record) ([]partition.Record, error) {
	tp := b.tp
	t, err := p.s.lookupTopic(tp.Topic)
	if err != nil {
		return buf, err
	}
	if int(tp.Partition) >= len(t.partitions) {
		return buf, errorf("strata/log: produce to %s: %w", tp, ErrUnknownPartition)
	}
	target, part, err := p.s.appender(t, tp.Partition, p.opts.Acks)
	if err != nil {
		return buf, err
	}
	target.sequence = b.sequence
	if p.txn != nil {
		// Bounded: the coordinator answers ErrConcurrentTransactions, retried,
		// while it has not written every marker of the previous transaction.
		ctx, cancel := context.WithTimeout(context.Background(), p.txn.timeout)
		err := p.txn.addPartition(ctx, tp)
		cancel()
		if err != nil {
			return buf, err
		}
	}
	// The records are converted for the partition here, rather than held
	// converted in the batches (see producerBatch); the batches of a round go in
	// one write (see sendLoop).
	total := 0
	for _, batch := range batches {
		total += len(batch.pending)
	}
	converted := slices.Grow(buf[:0], total)[:total]
	k := 0
	for _, batch := range batches {
		for i := range batch.pending {
			setPartitionRecord(&converted[k], batch.pending[i].record)
			k++
		}
	}
	batch, first := 0, 0                          // batches[batch] holds converted records from first on
	locate := func(i int) (*producerBatch, int) { // the batch and index converted[i] came from
		if i < first { // indexes come in order; start over if they ever did not
			batch, first = 0, 0
		}
		for i-first >= len(batches[batch].pending) {
			first += len(batches[batch].pending)
			batch++
		}
		return batches[batch], i - first
	}
	err = appendRecords(context.Background(), &target, converted, t.config.MaxBatchBytes, func(i int, offset int64) {
		batch, j := locate(i)
		batch.pending[j].offset = offset
	}, func(i int, err error) {
		batch, j := locate(i)
		batch.refused = append(batch.refused, refusedRecord{index: j, err: p.s.partitionError("produce to", tp, part, err)})
	})
	if err != nil {
		return converted, p.s.partitionError("produce to", tp, part, err)
	}
	return converted, nil
}

// Flush writes every open batch now, without waiting for Linger, and waits until
// every record accepted so far, and every record accepted while it waits, is
// acknowledged or failed and its promise has returned, or ctx ends. It returns the
// write failures of AcksNone records since the last Flush.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.mu.batchers {
		p.sealLocked(b)
	}
	for p.mu.inFlight > 0 {
		changed := p.changedLocked()
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			p.mu.Lock()
			return ctx.Err()
		}
		p.mu.Lock()
		for _, b := range p.mu.batchers { // records that arrived while waiting
			if b.open != nil {
				p.sealLocked(b)
			}
		}
	}
	err := errors.Join(p.mu.unreported...)
	p.mu.unreported = nil
	return err
}

// Close flushes everything (see Flush), stops the producer's goroutines and makes
// later Produce calls fail with ErrClosed. It is idempotent.
func (p *Producer) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.mu.closed = true
		p.signalLocked() // wake Produce calls waiting for space: they fail
		p.mu.Unlock()
		p.closeErr = p.Flush(context.Background())
		p.wg.Wait()
		if p.txn != nil && p.txn.inTransaction() {
			// Abort rather than leave the transaction to its timeout, which
			// holds read_committed readers back meanwhile.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			p.closeErr = errors.Join(p.closeErr, p.txn.end(ctx, false))
			cancel()
		}
		p.s.unregister(p, nil)
	})
	return p.closeErr
}

// changedLocked returns a channel closed at the next signalLocked.
func (p *Producer) changedLocked() chan struct{} {
	if p.mu.changed == nil {
		p.mu.changed = make(chan struct{})
	}
	return p.mu.changed
}

func (p *Producer) signalLocked() {
	if p.mu.changed != nil {
		close(p.mu.changed)
		p.mu.changed = nil
	}
}

// cloneRecord returns a copy of r that shares no bytes with it.
func cloneRecord(r *Record) *Record {
	c := *r
	c.Key = cloneBytes(r.Key)
	c.Value = cloneBytes(r.Value)
	if r.Headers != nil {
		c.Headers = make([]Header, len(r.Headers))
		for i, h := range r.Headers {
			c.Headers[i] = Header{Key: h.Key, Value: cloneBytes(h.Value)}
		}
	}
	return &c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
