package kafka

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratalog/strata/log"
)

// sessionBenchPartitions is the partition count of the fetch session benchmarks.
const sessionBenchPartitions = 64

// sessionBenchServer serves a store with topic "t" of 64 partitions (not fsynced)
// and returns its address and a counter of the bytes its connections read and
// wrote.
func sessionBenchServer(b *testing.B) (string, *atomic.Int64) {
	b.Helper()
	store := benchStore(b, log.TopicConfig{Partitions: sessionBenchPartitions, Sync: log.SyncPolicy{Mode: log.SyncNone}})
	bytes := new(atomic.Int64)
	addr, _ := benchServe(b, store, func(ln net.Listener) net.Listener { return &countingListener{Listener: ln, bytes: bytes} }, nil)
	return addr, bytes
}

// countingListener counts the bytes its connections read and write.
type countingListener struct {
	net.Listener
	bytes *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, bytes: l.bytes}, nil
}

// countingConn adds the bytes it reads and writes to bytes.
type countingConn struct {
	net.Conn
	bytes *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.bytes.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.bytes.Add(int64(n))
	return n, err
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
			addr, _ := sessionBenchServer(b)
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
				consumePass(b, ctx, addr, records, mode.opts...)
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
// wire-B/op is the bytes the server's connections read and wrote per record
// (produce and fetch requests and answers, both ways).
func BenchmarkKgoConsumeTrickle(b *testing.B) {
	value := make([]byte, 100)
	for _, mode := range sessionModes {
		b.Run(mode.name, func(b *testing.B) {
			addr, wire := sessionBenchServer(b)
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
			wireBefore := wire.Load()
			b.ResetTimer()
			for i := range b.N {
				if err := producer.ProduceSync(ctx, &kgo.Record{Value: value, Partition: int32(i % sessionBenchPartitions)}).FirstErr(); err != nil {
					b.Fatal(err)
				}
				consumeTo(sessionBenchPartitions + i + 1)
			}
			b.StopTimer()
			b.ReportMetric(float64(wire.Load()-wireBefore)/float64(b.N), "wire-B/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
