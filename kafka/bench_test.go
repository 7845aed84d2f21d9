package kafka

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stratalog/strata/log"
)

// benchServer starts a server for the benchmarks: strata's listener on a store
// with topic "t" (one partition, sync as given), or franz-go's kfake with the
// same topic, and returns its address. Every goroutine the server starts carries
// the profiler label side=server (goroutines inherit their creator's labels), so
// that a CPU profile of a benchmark (-cpuprofile; `go tool pprof -tags`) tells
// the server's share of the CPU from the client's.
func benchServer(b *testing.B, server string, sync log.SyncMode) (addr string, store *log.Store) {
	b.Helper()
	pprof.Do(context.Background(), pprof.Labels("side", "server"), func(context.Context) {
		addr, store = startBenchServer(b, server, sync)
	})
	return addr, store
}

// startBenchServer is benchServer without the labels.
func startBenchServer(b *testing.B, server string, sync log.SyncMode) (addr string, store *log.Store) {
	b.Helper()
	if server == "kfake" {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		return c.ListenAddrs()[0], nil
	}
	store = benchStore(b, log.TopicConfig{Partitions: 1, Sync: log.SyncPolicy{Mode: sync}, SegmentBytes: 1 << 30})
	addr, _ = benchServe(b, store, nil, nil)
	return addr, store
}

// benchServers are the servers compared: kfake (franz-go's in-memory fake
// broker, the baseline of issue 15) and strata's listener, its topic fsynced at
// every append (the default) or not at all.
var benchServers = []struct {
	name, server string
	sync         log.SyncMode
}{
	{"kfake", "kfake", 0},
	{"strata-sync=none", "strata", log.SyncNone},
	{"strata-sync=every-append", "strata", log.SyncEveryAppend},
}

// BenchmarkKgoProduce: kgo (idempotent, acks all, default batching) produces
// b.N records of 100 B to one partition through each server; one op is one
// record. BenchmarkStoreProduce is the in-process baseline.
func BenchmarkKgoProduce(b *testing.B) {
	value := make([]byte, 100)
	for _, bs := range benchServers {
		b.Run("server="+bs.name, func(b *testing.B) {
			addr, _ := benchServer(b, bs.server, bs.sync)
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			ctx := context.Background()
			var failed atomic.Pointer[error]
			promise := func(_ *kgo.Record, err error) {
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
			b.SetBytes(100)
			b.ResetTimer()
			for range b.N {
				cl.Produce(ctx, &kgo.Record{Value: value}, promise)
			}
			if err := cl.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkKgoProduceClients: as BenchmarkKgoProduce, with 4 kgo clients
// producing at once (b.N records in all, a quarter each) to the one partition:
// whether one client bounds the servers' throughput.
func BenchmarkKgoProduceClients(b *testing.B) {
	const clients = 4
	value := make([]byte, 100)
	for _, bs := range benchServers {
		b.Run("server="+bs.name, func(b *testing.B) {
			addr, _ := benchServer(b, bs.server, bs.sync)
			var cls []*kgo.Client
			for range clients {
				cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"))
				if err != nil {
					b.Fatal(err)
				}
				defer cl.Close()
				cls = append(cls, cl)
			}
			ctx := context.Background()
			var failed atomic.Pointer[error]
			promise := func(_ *kgo.Record, err error) {
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
			b.SetBytes(100)
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, cl := range cls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range b.N / clients {
						cl.Produce(ctx, &kgo.Record{Value: value}, promise)
					}
					if err := cl.Flush(ctx); err != nil {
						failed.CompareAndSwap(nil, &err)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkStoreProduce: the in-process baseline of BenchmarkKgoProduce, an async
// log.Producer of the store (acks all) producing the same records.
func BenchmarkStoreProduce(b *testing.B) {
	value := make([]byte, 100)
	for _, sync := range []log.SyncMode{log.SyncNone, log.SyncEveryAppend} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			_, store := benchServer(b, "strata", sync)
			p, err := store.NewProducer(log.ProducerOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			b.SetBytes(100)
			b.ResetTimer()
			for range b.N {
				p.Produce(ctx, &log.Record{Topic: "t", Value: value}, nil)
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkKgoConsume: kgo consumes 200,000 records of 100 B (produced by kgo
// first) from one partition through each server; one op is one pass over them.
func BenchmarkKgoConsume(b *testing.B) {
	const records = 200_000
	for _, bs := range benchServers[:2] {
		b.Run("server="+bs.name, func(b *testing.B) {
			addr, _ := benchServer(b, bs.server, bs.sync)
			ctx := context.Background()
			produceN(b, ctx, addr, records)
			b.SetBytes(records * 100)
			b.ResetTimer()
			for range b.N {
				consumePass(b, ctx, addr, records)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkKgoConsumeSealedSegments: kgo consumes 200,000 records of 100 B
// (produced by kgo first, uncompressed) from one partition of 1 MiB segments,
// all sealed but the last, through strata's listener writing Fetch responses
// three ways in the same run: fetch=copied as before sendfile (the batches
// copied into the response, kmsg encoding it: a second copy), fetch=memory
// (the fields encoded around the batches, written from the segments' mappings:
// no copy in the server, one write of each byte, as through TLS), and
// fetch=sendfile (the batches from the files with sendfile: the server's way
// on Linux). One op is one pass over the records. copied-bytes/served-byte is
// FetchStats' CopiedBytes over all batch bytes served.
func BenchmarkKgoConsumeSealedSegments(b *testing.B) {
	const records = 200_000
	for _, mode := range []struct {
		name string
		mode fetchWriteMode
	}{{"copied", fetchWriteCopied}, {"memory", fetchWriteFromMemory}, {"sendfile", fetchWriteSendfile}} {
		b.Run("fetch="+mode.name, func(b *testing.B) {
			ctx := context.Background()
			store := benchStore(b, log.TopicConfig{Partitions: 1, Sync: log.SyncPolicy{Mode: log.SyncNone}, SegmentBytes: 1 << 20})
			addr, s := benchServe(b, store, nil, func(s *Server) { s.fetchWrite = mode.mode })
			produceN(b, ctx, addr, records, kgo.ProducerBatchCompression(kgo.NoCompression()))
			before, cpu := s.FetchStats(), processCPU()
			b.SetBytes(records * 100)
			b.ResetTimer()
			for range b.N {
				consumePass(b, ctx, addr, records)
			}
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			after := s.FetchStats()
			copied := after.CopiedBytes - before.CopiedBytes
			served := copied + after.SentFromFileBytes - before.SentFromFileBytes
			b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(copied)/float64(max(served, 1)), "copied-bytes/served-byte")
		})
	}
}

// BenchmarkFetchSealedSegmentRaw: the server's side of Fetch alone. A raw
// client asks b.N times for the same 1 MiB of a sealed segment (Fetch v12,
// offset 0, max 1 MiB) and reads each response without decoding it, while the
// server writes the responses the three ways of
// BenchmarkKgoConsumeSealedSegments. One op is one response.
func BenchmarkFetchSealedSegmentRaw(b *testing.B) {
	for _, mode := range []struct {
		name string
		mode fetchWriteMode
	}{{"copied", fetchWriteCopied}, {"memory", fetchWriteFromMemory}, {"sendfile", fetchWriteSendfile}} {
		b.Run("fetch="+mode.name, func(b *testing.B) {
			ctx := context.Background()
			store := benchStore(b, log.TopicConfig{Partitions: 1, Sync: log.SyncPolicy{Mode: log.SyncNone}, SegmentBytes: 4 << 20})
			value := make([]byte, 100)
			for range 80 { // 80 batches of 500 records: about 5 MiB, the first segment sealed
				records := make([]*log.Record, 500)
				for i := range records {
					records[i] = &log.Record{Topic: "t", Value: value}
				}
				if err := store.Produce(ctx, records...); err != nil {
					b.Fatal(err)
				}
			}
			addr, s := benchServe(b, store, nil, func(s *Server) { s.fetchWrite = mode.mode })
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			req := kmsg.NewPtrFetchRequest()
			req.Version, req.MaxBytes = 12, 1<<20
			topic := kmsg.NewFetchRequestTopic()
			topic.Topic = "t"
			part := kmsg.NewFetchRequestTopicPartition()
			part.PartitionMaxBytes = 1 << 20
			topic.Partitions = append(topic.Partitions, part)
			req.Topics = append(req.Topics, topic)
			request := kmsg.NewRequestFormatter().AppendRequest(nil, req, 1)
			buf := make([]byte, 2<<20)
			before, cpu := s.FetchStats(), processCPU()
			served := 0
			b.ResetTimer()
			for range b.N {
				if _, err := nc.Write(request); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(nc, buf[:4]); err != nil {
					b.Fatal(err)
				}
				size := int(binary.BigEndian.Uint32(buf))
				if size > len(buf) || size < 1000 {
					b.Fatalf("response of %d bytes", size)
				}
				if _, err := io.ReadFull(nc, buf[:size]); err != nil {
					b.Fatal(err)
				}
				served += size
			}
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			b.SetBytes(int64(served / b.N))
			after := s.FetchStats()
			copied := after.CopiedBytes - before.CopiedBytes
			b.ReportMetric(float64(copied)/float64(max(copied+after.SentFromFileBytes-before.SentFromFileBytes, 1)), "copied-bytes/served-byte")
		})
	}
}

// consumePass has a new kgo client (with opts) read records records of topic "t"
// at addr from its start, failing b on an error.
func consumePass(b *testing.B, ctx context.Context, addr string, records int, opts ...kgo.Opt) {
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	for n := 0; n < records; {
		fetches := cl.PollFetches(ctx)
		if errs := fetches.Errors(); len(errs) > 0 {
			b.Fatal(errs[0].Err)
		}
		n += fetches.NumRecords()
	}
}

// benchStore opens a store in a temporary directory with topic "t" of cfg;
// the benchmark's cleanup closes it.
func benchStore(b *testing.B, cfg log.TopicConfig) *log.Store {
	b.Helper()
	store, err := log.Open(b.TempDir(), &log.Options{RetentionCheckInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.CreateTopic(context.Background(), "t", cfg); err != nil {
		b.Fatal(err)
	}
	return store
}

// benchServe serves store on a loopback listener (wrapped by wrap, if not nil;
// setup, if not nil, sets test hooks first) until the benchmark's cleanup, which
// closes the server before the store, and returns its address.
func benchServe(b *testing.B, store *log.Store, wrap func(net.Listener) net.Listener, setup func(*Server)) (string, *Server) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(store, nil)
	if err != nil {
		b.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	served := ln
	if wrap != nil {
		served = wrap(ln)
	}
	go s.Serve(served)
	b.Cleanup(func() { s.Close() })
	return ln.Addr().String(), s
}

// produceN has a new kgo client (with opts) produce n records of 100 B to topic
// "t" at addr, failing b on an error.
func produceN(b *testing.B, ctx context.Context, addr string, n int, opts ...kgo.Opt) {
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t")}, opts...)
	producer, err := kgo.NewClient(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	value := make([]byte, 100)
	for range n {
		producer.Produce(ctx, &kgo.Record{Value: value}, nil)
	}
	if err := producer.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}
