package bench

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalog/strata/internal/benchreport"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
)

// logSyncModes are the sync policies of the log benchmarks' topics.
var logSyncModes = []struct {
	name string
	mode log.SyncMode
}{
	{"none", log.SyncNone},
	{"every-append", log.SyncEveryAppend},
}

// openStore opens a store in a fresh b.TempDir(), without background retention, and
// creates topic "t" with the given partitions and sync mode.
func openStore(tb testing.TB, partitions int, mode log.SyncMode) *log.Store {
	tb.Helper()
	s, err := log.Open(tb.TempDir(), &log.Options{RetentionCheckInterval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	err = s.CreateTopic(context.Background(), "t", log.TopicConfig{
		Partitions:   partitions,
		SegmentBytes: 1 << 30,
		Sync:         log.SyncPolicy{Mode: mode},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// logRecords returns n records for topic "t" with 100 B values, spread round-robin
// over partitions (explicitly, so that every partition gets its share).
func logRecords(n, partitions int) []*log.Record {
	values := makeRecords(n, 100)
	records := make([]*log.Record, n)
	for i := range records {
		records[i] = &log.Record{
			Topic:             "t",
			Partition:         int32(i % partitions),
			ExplicitPartition: true,
			Value:             values[i].Value,
			Timestamp:         time.UnixMilli(values[i].Timestamp),
		}
	}
	return records
}

// producerBatchRecords is how many 100 B records fill a Producer's default batch
// (DefaultBatchBytes, 16 KiB, at 111 encoded bytes per record): the baseline
// api=partition-append/batch=147 appends batches of that size.
const producerBatchRecords = 147

// producerMiBBatchRecords is how many 100 B records a Producer's batch of
// BatchBytes 1 MiB holds: it is sealed once the records' upper bound (136 bytes
// each, see log's recordBound) reaches 1 MiB, about 856 KB encoded. The baseline
// api=partition-append/batch=7710 appends batches of that size: on the Linux VM of
// bench/README.md, the kernel's copy of a write into new page-cache pages costs
// several times more per byte for batches of this size than for 111 KB ones, so
// the producer's 1 MiB batches are held against appends of the same size. Run it
// with about 260 ops (2M records, what -benchtime 2000x gives the producer).
const producerMiBBatchRecords = 7710

// BenchmarkProduce measures producing 100 B records through the log package:
//   - api=sync: one Store.Produce of 1000 records per op, spread over the partitions
//     (each partition's share is one batch, appended concurrently);
//   - api=async: Producer.Produce of single records with a promise, batched per
//     partition (default Linger, acks durable; BatchBytes 16 KiB, the default, or
//     1 MiB), b.N*1000 records and one Flush at the end;
//   - api=partition-append: the baselines, Partition.Append on a bare partition of
//     batches of 147 records (what a 16 KiB producer batch holds), 1000, or 7710
//     (what a 1 MiB producer batch holds).
func BenchmarkProduce(b *testing.B) {
	const perOp = 1000
	for _, sm := range logSyncModes {
		for _, batch := range []int{producerBatchRecords, perOp, producerMiBBatchRecords} {
			b.Run(fmt.Sprintf("api=partition-append/batch=%d/sync=%s", batch, sm.name), func(b *testing.B) {
				p := openPartition(b, appendOptions(syncModes[sm.name], 0))
				benchPartitionAppend(b, p, batch)
			})
		}
		for _, partitions := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("api=sync/partitions=%d/sync=%s", partitions, sm.name), func(b *testing.B) {
				s := openStore(b, partitions, sm.mode)
				records := logRecords(perOp, partitions)
				ctx := context.Background()
				b.SetBytes(perOp * 100)
				b.ReportAllocs()
				allocs := benchreport.Mallocs()
				b.ResetTimer()
				for range b.N {
					if err := s.Produce(ctx, records...); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				benchreport.Records(b, int64(b.N)*perOp, allocs)
			})
			b.Run(fmt.Sprintf("api=async/partitions=%d/batch-bytes=16KiB/sync=%s", partitions, sm.name), func(b *testing.B) {
				benchAsyncProduce(b, partitions, sm.mode, 0)
			})
		}
		b.Run(fmt.Sprintf("api=async/partitions=1/batch-bytes=1MiB/sync=%s", sm.name), func(b *testing.B) {
			benchAsyncProduce(b, 1, sm.mode, 1<<20)
		})
	}
}

// benchAsyncProduce produces 1000 records per op through a Producer with batchBytes
// (0: the default), and flushes at the end.
func benchAsyncProduce(b *testing.B, partitions int, mode log.SyncMode, batchBytes int) {
	benchAsyncProduceWith(b, partitions, mode, log.ProducerOptions{BatchBytes: batchBytes})
}

// benchAsyncProduceWith is benchAsyncProduce with a Producer made with opts.
func benchAsyncProduceWith(b *testing.B, partitions int, mode log.SyncMode, opts log.ProducerOptions) {
	const perOp = 1000
	s := openStore(b, partitions, mode)
	producer, err := s.NewProducer(opts)
	if err != nil {
		b.Fatal(err)
	}
	records := logRecords(perOp, partitions)
	ctx := context.Background()
	var failed atomic.Pointer[error]
	promise := func(_ *log.Record, err error) {
		if err != nil {
			first := err // a copy, so that err itself does not escape (an allocation per call)
			failed.CompareAndSwap(nil, &first)
		}
	}
	b.SetBytes(perOp * 100)
	b.ReportAllocs()
	allocs := benchreport.Mallocs()
	b.ResetTimer()
	for range b.N {
		for _, r := range records {
			producer.Produce(ctx, r, promise)
		}
	}
	if err := producer.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	benchreport.Records(b, int64(b.N)*perOp, allocs)
}

// benchPartitionAppend appends perOp 100 B records as one batch per op to p.
func benchPartitionAppend(b *testing.B, p *partition.Partition, perOp int) {
	records := makeRecords(perOp, 100)
	ctx := context.Background()
	b.SetBytes(int64(perOp) * 100)
	b.ReportAllocs()
	allocs := benchreport.Mallocs()
	b.ResetTimer()
	for range b.N {
		if _, err := p.Append(ctx, records); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchreport.Records(b, int64(b.N)*int64(perOp), allocs)
}

// BenchmarkConsume measures a Consumer assigned every partition of a topic holding
// 1,024,000 records of 100 B in all: each op seeks to the beginning and Polls until
// it has every record (default MaxPollRecords 500).
func BenchmarkConsume(b *testing.B) {
	const total = 1_024_000
	for _, partitions := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("partitions=%d", partitions), func(b *testing.B) {
			s := openStore(b, partitions, log.SyncNone)
			fillTopic(b, s, partitions, total)
			benchPlainConsume(b, s, partitions, total)
		})
	}
}

// BenchmarkConsumeNext is BenchmarkConsume through Consumer.Next: one record per
// call, not copied (valid until the next call), the zero-copy way to consume.
func BenchmarkConsumeNext(b *testing.B) {
	const total = 1_024_000
	for _, partitions := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("partitions=%d", partitions), func(b *testing.B) {
			s := openStore(b, partitions, log.SyncNone)
			fillTopic(b, s, partitions, total)
			ctx := context.Background()
			consumer := newBenchConsumer(b, s)
			b.SetBytes(int64(total) * 100)
			b.ReportAllocs()
			allocs := benchreport.Mallocs()
			b.ResetTimer()
			for range b.N {
				if err := consumer.SeekToBeginning(); err != nil {
					b.Fatal(err)
				}
				var valueBytes int
				for range total {
					r, err := consumer.Next(ctx)
					if err != nil {
						b.Fatal(err)
					}
					valueBytes += len(r.Value)
				}
				if valueBytes != total*100 {
					b.Fatalf("read %d value bytes, want %d", valueBytes, total*100)
				}
			}
			b.StopTimer()
			benchreport.Records(b, int64(b.N)*int64(total), allocs)
		})
	}
}

// BenchmarkProduceConsumeLatency measures the time from the start of a Store.Produce
// of one 100 B record to the return of the Poll that delivers it, with a consumer
// long-polling on another goroutine: p50 and p99 over b.N records, one in flight at
// a time.
func BenchmarkProduceConsumeLatency(b *testing.B) {
	for _, sm := range logSyncModes {
		b.Run("sync="+sm.name, func(b *testing.B) {
			s := openStore(b, 1, sm.mode)
			consumer, err := s.NewConsumer(log.ConsumerOptions{}) // from offset 0 of the fresh topic
			if err != nil {
				b.Fatal(err)
			}
			defer consumer.Close()
			if err := consumer.Assign(log.TopicPartition{Topic: "t"}); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			delivered := make(chan time.Time, 1)
			polled := make(chan error, 1)
			go func() {
				for {
					records, err := consumer.Poll(ctx)
					if err != nil {
						polled <- err
						return
					}
					now := time.Now()
					for range records {
						delivered <- now
					}
				}
			}()
			values := makeRecords(1, 100)
			latencies := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range b.N {
				r := &log.Record{Topic: "t", Value: values[0].Value}
				began := time.Now()
				if err := s.Produce(ctx, r); err != nil {
					b.Fatal(err)
				}
				select {
				case at := <-delivered:
					latencies[i] = at.Sub(began)
				case err := <-polled:
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}

// newBenchConsumer returns a Consumer of s assigned every partition of topic "t",
// closed at the end of the benchmark.
func newBenchConsumer(b *testing.B, s *log.Store) *log.Consumer {
	consumer, err := s.NewConsumer(log.ConsumerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { consumer.Close() })
	if err := consumer.AssignTopics("t"); err != nil {
		b.Fatal(err)
	}
	return consumer
}

// benchPlainConsume measures a Consumer assigned all partitions of topic "t", which
// holds total records: each op seeks to the beginning and polls until it has them all.
func benchPlainConsume(b *testing.B, s *log.Store, partitions, total int) {
	ctx := context.Background()
	consumer := newBenchConsumer(b, s)
	tps := consumer.Assignment()
	if len(tps) != partitions {
		b.Fatalf("%d partitions assigned, want %d", len(tps), partitions)
	}
	b.SetBytes(int64(total) * 100)
	b.ReportAllocs()
	allocs := benchreport.Mallocs()
	b.ResetTimer()
	for range b.N {
		if err := consumer.SeekToBeginning(tps...); err != nil {
			b.Fatal(err)
		}
		for n := 0; n < total; {
			polled, err := consumer.Poll(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n += len(polled)
		}
	}
	b.StopTimer()
	benchreport.Records(b, int64(b.N)*int64(total), allocs)
}
