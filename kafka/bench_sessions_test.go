package kafka

import (
	"context"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratalog/strata/log"
)

// sessionBenchPartitions is the partition count of the fetch session benchmarks.
const sessionBenchPartitions = 64

// sessionBenchServer serves a store with topic "t" of 64 partitions (not fsynced)
// and returns its address.
func sessionBenchServer(b *testing.B) string {
	b.Helper()
	store, err := log.Open(b.TempDir(), &log.Options{RetentionCheckInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	err = store.CreateTopic(context.Background(), "t", log.TopicConfig{Partitions: sessionBenchPartitions, Sync: log.SyncPolicy{Mode: log.SyncNone}})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(store, nil)
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(ln)
	b.Cleanup(func() { s.Close(); store.Close() })
	return ln.Addr().String()
}

// sessionModes are kgo with fetch sessions (its default: incremental fetches
// once the server gives a session) and without (every fetch names every
// partition and every answer carries every partition).
var sessionModes = []struct {
	name string
	opts []kgo.Opt
}{
	{"sessions=on", nil},
	{"sessions=off", []kgo.Opt{kgo.DisableFetchSessions()}},
}

// BenchmarkKgoConsumePartitions: kgo consumes 192,000 records of 100 B spread
// over 64 partitions (3,000 each, produced by kgo first); one op is one pass
// over them, with and without fetch sessions.
func BenchmarkKgoConsumePartitions(b *testing.B) {
	const perPartition = 3_000
	const records = perPartition * sessionBenchPartitions
	value := make([]byte, 100)
	for _, mode := range sessionModes {
		b.Run(mode.name, func(b *testing.B) {
			addr := sessionBenchServer(b)
			ctx := context.Background()
			producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
			if err != nil {
				b.Fatal(err)
			}
			for i := range records {
				producer.Produce(ctx, &kgo.Record{Value: value, Partition: int32(i % sessionBenchPartitions)}, nil)
			}
			if err := producer.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			producer.Close()
			b.SetBytes(records * 100)
			b.ResetTimer()
			for range b.N {
				opts := append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, mode.opts...)
				cl, err := kgo.NewClient(opts...)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for n < records {
					fetches := cl.PollFetches(ctx)
					if errs := fetches.Errors(); len(errs) > 0 {
						b.Fatal(errs[0].Err)
					}
					n += fetches.NumRecords()
				}
				cl.Close()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkKgoConsumeTrickle: a kgo consumer caught up on 64 partitions waits for
// one record at a time, produced to the next partition in turn: one op is one
// record produced (acks=1) and consumed, so most of each fetch's partitions have
// nothing new, which is what fetch sessions leave out of requests and answers.
func BenchmarkKgoConsumeTrickle(b *testing.B) {
	value := make([]byte, 100)
	for _, mode := range sessionModes {
		b.Run(mode.name, func(b *testing.B) {
			addr := sessionBenchServer(b)
			ctx := context.Background()
			producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"),
				kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
			if err != nil {
				b.Fatal(err)
			}
			defer producer.Close()
			opts := append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, mode.opts...)
			consumer, err := kgo.NewClient(opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer consumer.Close()
			consumed := 0
			consumeTo := func(want int) {
				for consumed < want {
					fetches := consumer.PollFetches(ctx)
					if errs := fetches.Errors(); len(errs) > 0 {
						b.Fatal(errs[0].Err)
					}
					consumed += fetches.NumRecords()
				}
			}
			// Warm up: one record per partition, consumed, so that the consumer
			// holds every partition's position.
			for p := range sessionBenchPartitions {
				producer.Produce(ctx, &kgo.Record{Value: value, Partition: int32(p)}, nil)
			}
			if err := producer.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			consumeTo(sessionBenchPartitions)
			b.ResetTimer()
			for i := range b.N {
				if err := producer.ProduceSync(ctx, &kgo.Record{Value: value, Partition: int32(i % sessionBenchPartitions)}).FirstErr(); err != nil {
					b.Fatal(err)
				}
				consumeTo(sessionBenchPartitions + i + 1)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
