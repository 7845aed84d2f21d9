package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratalog/strata/internal/benchreport"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

var syncModes = map[string]partition.SyncMode{
	"none":         partition.SyncNone,
	"every-append": partition.SyncEveryAppend,
}

// rollEveryBytes is how much the append benchmarks write to one segment before they
// roll it themselves, with the timer stopped. Their partitions have the largest
// segments (segment.MaxSegmentBytes, 2 GiB) so that no roll happens inside the timed
// loop: under SyncNone a roll fsyncs the whole dirty segment before the next append
// proceeds (BenchmarkRoll measures that), and whether a run crossed the segment size
// or not made the figures bimodal.
const rollEveryBytes = 1 << 30

// appendOptions are the options of the append benchmarks: the sync mode, room for
// batches of maxBatchBytes (0: the default, 1 MiB), and the largest segments.
func appendOptions(mode partition.SyncMode, maxBatchBytes int) *partition.Options {
	return &partition.Options{
		SegmentBytes:  segment.MaxSegmentBytes,
		MaxBatchBytes: maxBatchBytes,
		Sync:          partition.SyncPolicy{Mode: mode},
	}
}

// untimedRoller rolls a partition every rollEveryBytes of appends, outside the timer.
type untimedRoller struct {
	p       *partition.Partition
	written int64
}

func (r *untimedRoller) appended(b *testing.B, n int) {
	r.written += int64(n)
	if r.written < rollEveryBytes {
		return
	}
	b.StopTimer()
	if err := r.p.Roll(); err != nil {
		b.Fatal(err)
	}
	r.written = 0
	b.StartTimer()
}

// BenchmarkAppend measures Partition.Append of one batch per op on one partition: the
// cost of encoding the batch, writing it with one pwrite, indexing it and, with
// sync=every-append, one fsync per batch. Rolls are kept out of the timed loop (see
// rollEveryBytes).
func BenchmarkAppend(b *testing.B) {
	cases := []struct {
		batch, value int
		sync         string
	}{
		{1, 100, "none"},
		{100, 100, "none"},
		{1000, 100, "none"},
		{1000, 1024, "none"},
		{1, 100, "every-append"},
		{1000, 100, "every-append"},
		{1000, 1024, "every-append"},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("batch=%d/value=%d/sync=%s", c.batch, c.value, c.sync), func(b *testing.B) {
			p := openPartition(b, appendOptions(syncModes[c.sync], 0))
			benchmarkAppend(b, p, makeRecords(c.batch, c.value))
		})
	}
}

// benchmarkAppend appends records as one batch per op and reports the figures.
func benchmarkAppend(b *testing.B, p *partition.Partition, records []partition.Record) {
	ctx := context.Background()
	size := encodedSize(b, records)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	roller := untimedRoller{p: p}
	syncsBefore := p.Stats().Syncs
	allocsBefore := benchreport.Mallocs()
	for b.Loop() {
		if _, err := p.Append(ctx, records); err != nil {
			b.Fatal(err)
		}
		roller.appended(b, size)
	}
	benchreport.Records(b, int64(b.N)*int64(len(records)), allocsBefore)
	b.ReportMetric(float64(p.Stats().Syncs-syncsBefore)/float64(b.N), "fsyncs/op")
}

// mibRecords is the batch of BenchmarkAppendMiB and BenchmarkBaselineFile: 10,000
// records of 100 B, 1,113,549 bytes encoded (1.06 MiB), so MaxBatchBytes is raised
// to mibMaxBatchBytes (the default is exactly 1 MiB).
const (
	mibRecords, mibValue = 10_000, 100
	mibMaxBatchBytes     = 2 << 20
)

// BenchmarkAppendMiB appends ~1 MiB batches: the bandwidth figure to hold against
// BenchmarkBaselineFile, which writes the same bytes.
func BenchmarkAppendMiB(b *testing.B) {
	for _, name := range []string{"every-append", "none"} {
		b.Run("sync="+name, func(b *testing.B) {
			p := openPartition(b, appendOptions(syncModes[name], mibMaxBatchBytes))
			benchmarkAppend(b, p, makeRecords(mibRecords, mibValue))
		})
	}
}

// BenchmarkAppendBatchMiB appends the same ~1 MiB batch, already encoded, with
// Partition.AppendBatch (the path of a Kafka produce request): verification (CRC)
// instead of encoding.
func BenchmarkAppendBatchMiB(b *testing.B) {
	for _, name := range []string{"every-append", "none"} {
		b.Run("sync="+name, func(b *testing.B) {
			p := openPartition(b, appendOptions(syncModes[name], mibMaxBatchBytes))
			records := makeRecords(mibRecords, mibValue)
			batch, err := segment.AppendBatch(nil, records, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			roller := untimedRoller{p: p}
			allocsBefore := benchreport.Mallocs()
			for b.Loop() {
				// AppendBatch rewrites the base offset in place; the CRC does not cover
				// it, so the same bytes are a valid batch again on the next op.
				if _, err := p.AppendBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				roller.appended(b, len(batch))
			}
			benchreport.Records(b, int64(b.N)*mibRecords, allocsBefore)
		})
	}
}

// BenchmarkBaselineFile is what the disk and the OS give without strata: the bytes
// of BenchmarkAppendMiB's batch written sequentially to a plain *os.File, with an
// fsync after every write (write+fsync) or none (write, so into the page cache).
func BenchmarkBaselineFile(b *testing.B) {
	records := makeRecords(mibRecords, mibValue)
	batch, err := segment.AppendBatch(nil, records, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		sync bool
	}{{"write+fsync", true}, {"write", false}} {
		b.Run(c.name, func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "baseline.log"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			allocsBefore := benchreport.Mallocs()
			for b.Loop() {
				if _, err := f.Write(batch); err != nil {
					b.Fatal(err)
				}
				if c.sync {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
			benchreport.Records(b, int64(b.N)*mibRecords, allocsBefore)
		})
	}
}

// BenchmarkBaselineWrite is the ceiling for BenchmarkAppend with sync=none: the
// encoded bytes of the same batch written sequentially to a plain *os.File, without
// fsync, one write per op.
func BenchmarkBaselineWrite(b *testing.B) {
	for _, c := range []struct{ batch, value int }{{1000, 100}, {1000, 1024}} {
		b.Run(fmt.Sprintf("batch=%d/value=%d", c.batch, c.value), func(b *testing.B) {
			batch, err := segment.AppendBatch(nil, makeRecords(c.batch, c.value), nil)
			if err != nil {
				b.Fatal(err)
			}
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "baseline.log"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			allocsBefore := benchreport.Mallocs()
			for b.Loop() {
				if _, err := f.Write(batch); err != nil {
					b.Fatal(err)
				}
			}
			benchreport.Records(b, int64(b.N)*int64(c.batch), allocsBefore)
		})
	}
}

// BenchmarkAppendConcurrent measures durable single-record appends (SyncEveryAppend,
// one record of 100 B per Append) from a number of goroutines sharing b.N: group
// commit should let one fsync acknowledge many appends, so the rate should grow with
// the writers while fsyncs/record falls.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			p := openPartition(b, nil) // the defaults: SyncEveryAppend
			ctx := context.Background()
			b.SetBytes(int64(encodedSize(b, makeRecords(1, 100))))
			b.ReportAllocs()
			perWriter := make([][]partition.Record, writers)
			for w := range perWriter {
				perWriter[w] = makeRecords(1, 100)
			}
			syncsBefore := p.Stats().Syncs
			allocsBefore := benchreport.Mallocs()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for _, records := range perWriter {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := p.Append(ctx, records); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			benchreport.Records(b, int64(b.N), allocsBefore)
			b.ReportMetric(float64(p.Stats().Syncs-syncsBefore)/float64(b.N), "fsyncs/record")
		})
	}
}
