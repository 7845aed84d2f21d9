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
)

// BenchmarkTransaction measures transactional produce through log.Producer
// (TransactionalID set; default BatchBytes and Linger), 100 B records spread
// round-robin over the topic's 4 partitions, each op one transaction:
// BeginTransaction, Produce of the records, CommitTransaction.
//   - records=N/txn=on: a transaction of N records per op; commit-p50-ms and
//     commit-p99-ms are the latency of CommitTransaction (which flushes the
//     transaction's last batches, stores the decision, writes a marker to each of
//     the 4 partitions and stores the completion);
//   - records=N/txn=off: the baseline, measured in the same run: the same records
//     produced by an idempotent Producer (the default), with one Flush per op, so
//     that both wait for their records per op. Issue 14 asks for the throughput of
//     back-to-back transactions as a ratio of this.
func BenchmarkTransaction(b *testing.B) {
	const partitions = 4
	for _, sm := range logSyncModes {
		for _, n := range []int{100, 1000} {
			for _, mode := range []string{"off", "on"} {
				b.Run(fmt.Sprintf("sync=%s/records=%d/txn=%s", sm.name, n, mode), func(b *testing.B) {
					benchTransactions(b, partitions, sm.mode, n, mode == "on")
				})
			}
		}
	}
}

func benchTransactions(b *testing.B, partitions int, mode log.SyncMode, perOp int, transactional bool) {
	s := openStore(b, partitions, mode)
	opts := log.ProducerOptions{}
	if transactional {
		opts.TransactionalID = "bench"
	}
	producer, err := s.NewProducer(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	records := logRecords(perOp, partitions)
	ctx := context.Background()
	var failed atomic.Pointer[error]
	promise := func(_ *log.Record, err error) {
		if err != nil {
			first := err
			failed.CompareAndSwap(nil, &first)
		}
	}
	commits := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(perOp) * 100)
	b.ReportAllocs()
	allocs := benchreport.Mallocs()
	b.ResetTimer()
	for range b.N {
		if transactional {
			if err := producer.BeginTransaction(); err != nil {
				b.Fatal(err)
			}
		}
		for _, r := range records {
			producer.Produce(ctx, r, promise)
		}
		start := time.Now()
		if transactional {
			err = producer.CommitTransaction(ctx)
		} else {
			err = producer.Flush(ctx)
		}
		if err != nil {
			b.Fatal(err)
		}
		commits = append(commits, time.Since(start))
	}
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	benchreport.Records(b, int64(b.N)*int64(perOp), allocs)
	slices.Sort(commits)
	name := "flush"
	if transactional {
		name = "commit"
	}
	b.ReportMetric(float64(commits[len(commits)/2].Microseconds())/1000, name+"-p50-ms")
	b.ReportMetric(float64(commits[len(commits)*99/100].Microseconds())/1000, name+"-p99-ms")
}
