package log_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// promises collects promise calls.
type promises struct {
	mu      sync.Mutex
	records []*log.Record
	errs    []error
	done    chan struct{} // receives one value per call
}

func newPromises() *promises { return &promises{done: make(chan struct{}, 1<<16)} }

func (p *promises) promise(r *log.Record, err error) {
	p.mu.Lock()
	p.records = append(p.records, r)
	p.errs = append(p.errs, err)
	p.mu.Unlock()
	p.done <- struct{}{}
}

func (p *promises) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.records)
}

func TestProducerBatchesAndAcknowledges(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 3})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour})
	require.NoError(t, err)
	ctx := testContext(t)
	got := newPromises()
	const n = 300
	for i := range n {
		producer.Produce(ctx, &log.Record{Topic: "t", Key: fmt.Appendf(nil, "key-%d", i%10), Value: value("v", i)}, got.promise)
	}
	require.NoError(t, producer.Flush(ctx))
	require.Equal(t, n, got.count(), "every promise called before Flush returns")

	next := map[int32]int64{}
	for i, r := range got.records {
		require.NoError(t, got.errs[i])
		require.Equal(t, int32(log.KeyPartition(r.Key, 3)), r.Partition)
		require.Equal(t, next[r.Partition], r.Offset, "promises of a partition come in offset order")
		next[r.Partition]++
	}
	var appends uint64
	for _, p := range s.Stats().Topics[0].Partitions {
		appends += p.Appends
	}
	require.LessOrEqual(t, appends, uint64(6), "batched: %d appends for %d records", appends, n)
	require.NoError(t, producer.Close())
	require.NoError(t, producer.Close())
}

// A batch is written once it reaches BatchBytes, without waiting for Linger.
func TestProducerWritesFullBatches(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour, BatchBytes: 1000})
	require.NoError(t, err)
	ctx := testContext(t)
	got := newPromises()
	for range 10 {
		producer.Produce(ctx, &log.Record{Topic: "t", Value: make([]byte, 100)}, got.promise)
	}
	for range 7 { // 61 + 7*136 bytes: the first batch closes at 7 records
		select {
		case <-got.done:
		case <-ctx.Done():
			t.Fatal("a full batch was not written")
		}
	}
	require.NoError(t, producer.Close())
	require.Equal(t, 10, got.count())
}

// A batch as large as the topic's MaxBatchBytes allows is written as one append:
// the record that would take it past MaxBatchBytes opens the next batch, instead
// of being written as a batch of its own after it.
func TestProducerBatchesFitMaxBatchBytes(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{MaxBatchBytes: 1000})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour, BatchBytes: 1000})
	require.NoError(t, err)
	ctx := testContext(t)
	got := newPromises()
	for range 21 { // 61 + 6*136 bytes fit in 1000, 7 records do not: 3 batches of 7 would need 6 appends
		producer.Produce(ctx, &log.Record{Topic: "t", Value: make([]byte, 100)}, got.promise)
	}
	require.NoError(t, producer.Flush(ctx))
	for i := range got.errs {
		require.NoError(t, got.errs[i])
	}
	require.Equal(t, uint64(4), s.Stats().Topics[0].Partitions[0].Appends, "batches of 6 records, and the 3 left")
	require.NoError(t, producer.Close())
}

// lingeringProducer returns a Producer with a Linger of 10 ms, of a store in
// memory holding topic "t", closed at the end of the test; inside synctest.Test.
func lingeringProducer(t *testing.T) *log.Producer {
	s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	createTopic(t, s, "t", log.TopicConfig{})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: 10 * time.Millisecond})
	require.NoError(t, err)
	return producer
}

// Under synctest's fake clock: an open batch waits for exactly Linger.
func TestProducerLinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		producer := lingeringProducer(t)
		got := newPromises()
		producer.Produce(context.Background(), &log.Record{Topic: "t", Value: []byte("v")}, got.promise)
		time.Sleep(9 * time.Millisecond)
		synctest.Wait()
		require.Equal(t, 0, got.count(), "still lingering")
		time.Sleep(time.Millisecond)
		synctest.Wait()
		require.Equal(t, 1, got.count())
		require.NoError(t, got.errs[0])
		require.Equal(t, int64(0), got.records[0].Offset)
	})
}

// The linger timer of a partition is reused: every open batch waits for exactly
// Linger from its first record, after a batch the timer sealed and after one that
// Flush sealed (cancelling the timer).
func TestProducerLingerEveryBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		producer := lingeringProducer(t)
		ctx := context.Background()
		got := newPromises()
		lingers := func(want int) { // one batch of one record lingers 10 ms, then is written
			t.Helper()
			producer.Produce(ctx, &log.Record{Topic: "t", Value: []byte("v")}, got.promise)
			time.Sleep(9 * time.Millisecond)
			synctest.Wait()
			require.Equal(t, want-1, got.count(), "still lingering")
			time.Sleep(time.Millisecond)
			synctest.Wait()
			require.Equal(t, want, got.count())
		}
		lingers(1)
		time.Sleep(5 * time.Millisecond)
		lingers(2) // after a batch the timer sealed
		producer.Produce(ctx, &log.Record{Topic: "t", Value: []byte("v")}, got.promise)
		time.Sleep(2 * time.Millisecond)
		require.NoError(t, producer.Flush(ctx))
		require.Equal(t, 3, got.count())
		lingers(4) // after a batch Flush sealed
		for i, r := range got.records {
			require.NoError(t, got.errs[i])
			require.Equal(t, int64(i), r.Offset)
		}
	})
}

// With a negative Linger, a batch is written as soon as the partition's sender is
// free.
func TestProducerNoLinger(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: -1})
	require.NoError(t, err)
	ctx := testContext(t)
	got := newPromises()
	for i := range 50 {
		producer.Produce(ctx, &log.Record{Topic: "t", Value: value("t", i)}, got.promise)
	}
	for range 50 {
		select {
		case <-got.done:
		case <-ctx.Done():
			t.Fatal("records not written without Flush")
		}
	}
	for i, r := range got.records {
		require.NoError(t, got.errs[i])
		require.Equal(t, int64(i), r.Offset)
	}
}

func TestProducerAcksNone(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	createTopic(t, s, "doomed", log.TopicConfig{})
	producer, err := s.NewProducer(log.ProducerOptions{Acks: log.AcksNone, Linger: time.Hour})
	require.NoError(t, err)
	ctx := testContext(t)
	got := newPromises()
	buf := []byte("original")
	r := &log.Record{Topic: "t", Value: buf}
	producer.Produce(ctx, r, got.promise)
	require.Equal(t, 1, got.count(), "acknowledged once buffered")
	require.NoError(t, got.errs[0])
	require.Equal(t, int64(-1), r.Offset)
	copy(buf, "modified") // the producer copied the bytes
	require.NoError(t, producer.Flush(ctx))

	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Assign(tp("t", 0)))
	require.Equal(t, []byte("original"), pollN(t, c, 1)[0].Value)

	// A write failure nobody was told about is returned by the next Flush.
	producer.Produce(ctx, &log.Record{Topic: "doomed", Value: []byte("x")}, got.promise)
	require.NoError(t, s.DeleteTopic(ctx, "doomed"))
	require.ErrorIs(t, producer.Flush(ctx), log.ErrUnknownTopic)
	require.NoError(t, producer.Flush(ctx), "reported once")
}

func TestProducerErrors(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{MaxBatchBytes: 1024})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour, MaxBufferedBytes: 500})
	require.NoError(t, err)
	ctx := testContext(t)
	errOf := func(r *log.Record, ctx context.Context) error {
		got := newPromises()
		producer.Produce(ctx, r, got.promise)
		require.Equal(t, 1, got.count(), "failed at once")
		return got.errs[0]
	}
	require.ErrorIs(t, errOf(nil, ctx), log.ErrInvalidArgument)
	require.ErrorIs(t, errOf(&log.Record{Topic: "nope"}, ctx), log.ErrUnknownTopic)
	require.ErrorIs(t, errOf(&log.Record{Topic: "t", Partition: 1, ExplicitPartition: true}, ctx), log.ErrUnknownPartition)

	// Buffer full: Produce waits for space until ctx ends.
	pending := newPromises()
	producer.Produce(ctx, &log.Record{Topic: "t", Value: make([]byte, 400)}, pending.promise)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, errOf(&log.Record{Topic: "t", Value: make([]byte, 400)}, canceled), context.Canceled)

	require.NoError(t, producer.Flush(ctx))

	// Too large for the topic: fails alone, when written. A record larger than
	// MaxBufferedBytes is accepted when nothing else is buffered.
	producer.Produce(ctx, &log.Record{Topic: "t", Value: make([]byte, 2000)}, pending.promise)
	require.NoError(t, producer.Flush(ctx))
	require.NoError(t, pending.errs[0])
	require.ErrorIs(t, pending.errs[1], log.ErrRecordTooLarge)
	require.Equal(t, int64(-1), pending.records[1].Offset)

	require.NoError(t, producer.Close())
	require.ErrorIs(t, errOf(&log.Record{Topic: "t"}, ctx), log.ErrClosed)
}

// Store.Close flushes the producers made from it.
func TestStoreCloseFlushesProducers(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, "t", log.TopicConfig{})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour})
	require.NoError(t, err)
	got := newPromises()
	for i := range 5 {
		producer.Produce(context.Background(), &log.Record{Topic: "t", Value: value("t", i)}, got.promise)
	}
	require.NoError(t, s.Close())
	require.Equal(t, 5, got.count())
	for _, err := range got.errs {
		require.NoError(t, err)
	}
	s = openStore(t, fsys, nil)
	require.Equal(t, int64(5), describe(t, s, "t").Partitions[0].EndOffset)
}
