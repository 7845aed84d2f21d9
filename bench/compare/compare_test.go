package compare

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratalog/strata/internal/benchreport"
)

// The workloads' sizes: 100 B values; appends of 1000 records; "1 MiB" batches of
// 10,000 records (1,000,000 value bytes; 1,113,549 bytes as a strata batch);
// sequential reads of 1,024,000 records (written in batches of 1000); random lookups
// in 1,000,000 records (written in batches of 100) spread over 1,000 segments.
const (
	valueSize      = 100
	batchRecords   = 1000
	mibRecords     = 10_000
	readRecords    = 1_024_000
	lookupRecords  = 1_000_000
	lookupBatch    = 100
	lookupSegments = 1000
)

// config is how a workload wants a library opened.
type config struct {
	// sync: an append returns only once its records are fsynced (each library's
	// strongest per-append setting); otherwise the library does not fsync appends.
	sync bool
	// fixture: the store is filled outside the timer and then read, so whether
	// appends fsync does not matter (a library that always fsyncs may run).
	fixture bool
	// maxBatchRecords is the largest batch the workload appends (room to configure).
	maxBatchRecords int
	// segmentRecords, if > 0, asks for segments of about this many records.
	segmentRecords int
}

// store is one library opened in a fresh directory, with records appended in
// order (the first gets offset or index 0 or 1, the library's own convention).
type store interface {
	// prepare returns values in the library's own batch form, built once outside
	// the timed loop where the library lets a batch be reused.
	prepare(values [][]byte) any
	// append appends one batch made by prepare; safe for concurrent use.
	append(batch any) error
	// close releases everything; it is called by a cleanup.
	close() error
}

// forker is a store that gives each concurrent writer a handle of its own (a
// client of a server, as separate producers would have); others share the store.
type forker interface {
	fork(tb testing.TB) store
}

// sequentialReader reads the first n records in order and returns the sum of
// their value lengths; it must see every record (the caller checks the sum).
type sequentialReader interface {
	readAll(n int) (valueBytes int64, err error)
}

// getter reads the value of the record at i (0-based position in the log).
type getter interface {
	get(i int64) ([]byte, error)
}

// segmentCounter reports how many segments (files, blocks) hold the log now.
type segmentCounter interface {
	segments() int
}

// lib is a library under comparison. open opens it in dir for cfg, or returns
// a non-empty reason why it cannot run such a workload with the same meaning
// (the benchmark is then skipped with that reason).
type lib struct {
	name string
	open func(tb testing.TB, dir string, cfg config) (store, string)
}

// libs lists the libraries in the order the tables show them: strata first (the
// base of benchstat's comparisons), then strata through its log package.
var libs = []lib{
	{"strata", openStrata},
	{"strata-log", openStrataLog},
	{"strata-nocrc", openStrataNoCRC},
	{"tidwall-wal", openTidwall},
	{"raft-wal", openRaftWAL},
	{"nats-jetstream", openNATS},
	{"kfake", openKfake},
}

// openLib opens l for cfg in a fresh temporary directory and closes it at cleanup,
// or skips the benchmark with l's reason.
func openLib(tb testing.TB, l lib, cfg config) store {
	tb.Helper()
	s, reason := l.open(tb, tb.TempDir(), cfg)
	if reason != "" {
		tb.Skip(l.name + ": " + reason)
	}
	tb.Cleanup(func() {
		if err := s.close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// makeValues returns n values of size pseudo-random (incompressible) bytes.
func makeValues(n, size int) [][]byte {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	buf := make([]byte, n*size)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	values := make([][]byte, n)
	for i := range values {
		values[i] = buf[i*size : (i+1)*size : (i+1)*size]
	}
	return values
}

// syncName names config.sync in benchmark names.
func syncName(sync bool) string {
	if sync {
		return "batch"
	}
	return "none"
}

// fill appends n records of valueSize in batches of batch, outside any timer.
func fill(tb testing.TB, s store, n, batch int) {
	tb.Helper()
	values := makeValues(batch, valueSize)
	prepared := s.prepare(values)
	for i := 0; i < n; i += batch {
		if i+batch > n {
			prepared = s.prepare(values[:n-i])
		}
		if err := s.append(prepared); err != nil {
			tb.Fatalf("fill at record %d: %v", i, err)
		}
	}
}

// BenchmarkAppend appends one batch of 1000 records of 100 B per op, without
// fsync (sync=none) or with the batch fsynced before append returns (sync=batch).
func BenchmarkAppend(b *testing.B) {
	for _, l := range libs {
		for _, sync := range []bool{false, true} {
			b.Run(fmt.Sprintf("lib=%s/batch=%d/sync=%s", l.name, batchRecords, syncName(sync)), func(b *testing.B) {
				s := openLib(b, l, config{sync: sync, maxBatchRecords: batchRecords})
				benchAppend(b, s, makeValues(batchRecords, valueSize))
			})
		}
	}
}

// BenchmarkAppendMiB appends batches of 10,000 records of 100 B (about 1 MiB), each
// fsynced before append returns; lib=file is the plain-file baseline: the bytes of
// strata's batch (1,113,549) written to an *os.File with f.Write and f.Sync per op.
func BenchmarkAppendMiB(b *testing.B) {
	values := makeValues(mibRecords, valueSize)
	for _, l := range libs {
		b.Run(fmt.Sprintf("lib=%s/sync=batch", l.name), func(b *testing.B) {
			s := openLib(b, l, config{sync: true, maxBatchRecords: mibRecords})
			benchAppend(b, s, values)
		})
	}
	b.Run("lib=file/sync=batch", func(b *testing.B) {
		benchBaselineFile(b, values)
	})
}

// benchAppend appends values as one batch per op.
func benchAppend(b *testing.B, s store, values [][]byte) {
	prepared := s.prepare(values)
	b.SetBytes(int64(len(values) * valueSize))
	b.ReportAllocs()
	allocsBefore := benchreport.Mallocs()
	for b.Loop() {
		if err := s.append(prepared); err != nil {
			b.Fatal(err)
		}
	}
	benchreport.Records(b, int64(b.N)*int64(len(values)), allocsBefore)
}

// benchBaselineFile writes strata's encoding of values with one f.Write and one
// f.Sync per op.
func benchBaselineFile(b *testing.B, values [][]byte) {
	batch := strataBatchBytes(b, values)
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "baseline.log"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(values) * valueSize))
	b.ReportAllocs()
	allocsBefore := benchreport.Mallocs()
	for b.Loop() {
		if _, err := f.Write(batch); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	benchreport.Records(b, int64(b.N)*int64(len(values)), allocsBefore)
}

// BenchmarkAppendConcurrent measures durable single-record appends (one record of
// 100 B per append, acknowledged once fsynced) from 1 or 64 goroutines sharing
// b.N: how far each library lets concurrent writers share fsyncs.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, l := range libs {
		for _, writers := range []int{1, 64} {
			b.Run(fmt.Sprintf("lib=%s/writers=%d", l.name, writers), func(b *testing.B) {
				s := openLib(b, l, config{sync: true, maxBatchRecords: 1})
				handles := make([]store, writers)
				prepared := make([]any, writers)
				for w := range handles {
					handles[w] = s
					if f, ok := s.(forker); ok {
						handles[w] = f.fork(b)
					}
					prepared[w] = handles[w].prepare(makeValues(1, valueSize))
				}
				b.SetBytes(valueSize)
				b.ReportAllocs()
				allocsBefore := benchreport.Mallocs()
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for w := range handles {
					wg.Go(func() {
						for next.Add(1) <= int64(b.N) {
							if err := handles[w].append(prepared[w]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				benchreport.Records(b, int64(b.N), allocsBefore)
			})
		}
	}
}

// BenchmarkRead reads 1,024,000 records of 100 B (written in batches of 1000 just
// before, so in the page cache) from the first, in order, per op.
func BenchmarkRead(b *testing.B) {
	for _, l := range libs {
		b.Run(fmt.Sprintf("lib=%s/records=%d", l.name, readRecords), func(b *testing.B) {
			s := openLib(b, l, config{fixture: true, maxBatchRecords: batchRecords})
			r, ok := s.(sequentialReader)
			if !ok {
				b.Skip(l.name + ": no sequential read")
			}
			fill(b, s, readRecords, batchRecords)
			readAll := func() {
				n, err := r.readAll(readRecords)
				if err != nil || n != readRecords*valueSize {
					b.Fatalf("read %d value bytes, want %d: %v", n, readRecords*valueSize, err)
				}
			}
			readAll() // warm: buffers, caches, a consumer's first fetch
			b.SetBytes(readRecords * valueSize)
			b.ReportAllocs()
			allocsBefore := benchreport.Mallocs()
			for b.Loop() {
				readAll()
			}
			benchreport.Records(b, int64(b.N)*readRecords, allocsBefore)
		})
	}
}

// BenchmarkLookup reads the record at a random position (seeded, the same for
// every library) in 1,000,000 records of 100 B written in batches of 100 and
// spread over about 1,000 segments, where the library lets segments be sized
// (the segments metric says how many there were).
func BenchmarkLookup(b *testing.B) {
	for _, l := range libs {
		b.Run(fmt.Sprintf("lib=%s/segments=%d", l.name, lookupSegments), func(b *testing.B) {
			s := openLib(b, l, config{fixture: true, maxBatchRecords: lookupBatch, segmentRecords: lookupRecords / lookupSegments})
			g, ok := s.(getter)
			if !ok {
				b.Skip(l.name + ": no read by position")
			}
			fill(b, s, lookupRecords, lookupBatch)
			rng := rand.New(rand.NewPCG(1, 2))
			positions := make([]int64, 4096)
			for i := range positions {
				positions[i] = rng.Int64N(lookupRecords)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				value, err := g.get(positions[i%len(positions)])
				if err != nil || len(value) != valueSize {
					b.Fatalf("get(%d): %d bytes, %v", positions[i%len(positions)], len(value), err)
				}
			}
			if c, ok := s.(segmentCounter); ok { // after the loop, which resets metrics
				b.ReportMetric(float64(c.segments()), "segments")
			}
		})
	}
}

// countFiles returns how many files in dir (not recursively) match pattern.
func countFiles(dir, pattern string) int {
	matches, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(matches)
}
