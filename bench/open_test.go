package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
)

// filesPerSegment is how many files an open segment holds open: its .log (the
// .index and .timeindex are closed between writes, their entries kept in memory). A
// store holds every segment of every partition open, so it needs about
// filesPerSegment × segments descriptors (RLIMIT_NOFILE).
const filesPerSegment = 1

// openStoreFixture describes a store that BenchmarkOpenStore opens: one topic of
// partitions partitions, each with segments segments (segments-1 sealed ones and
// the active one), each segment holding one batch of 10 records of 100 B.
type openStoreFixture struct {
	partitions, segments int
}

// BenchmarkOpenStore measures log.Open of a store made beforehand and closed
// cleanly (no recovery to run), and what the open store costs the process:
// heap-MiB (HeapInuse after GC, whole process), heap-delta-MiB (live heap the
// store added), rss-MiB (VmRSS), goroutines and open-files added. Each op opens
// the store, takes the readings with the timer stopped, and closes it.
//
// The goal (issue 6) is 10,000 partitions in at most 2 s and 200 MiB of heap. A
// store keeps every segment's .log open, so 10,000 partitions need more than 10,000
// file descriptors; where RLIMIT_NOFILE is lower that case is skipped with the
// reason, and the smaller ones give the per-partition cost.
func BenchmarkOpenStore(b *testing.B) {
	for _, f := range []openStoreFixture{
		{partitions: 1000, segments: 1},
		{partitions: 5000, segments: 1},
		{partitions: 10_000, segments: 1},
		{partitions: 100, segments: 50},
	} {
		parent := b
		var dir string // made once: the function below runs once per b.N tried
		b.Run(fmt.Sprintf("partitions=%d/segments=%d", f.partitions, f.segments), func(b *testing.B) {
			needed := uint64(f.partitions*f.segments*filesPerSegment + 100)
			if limit := openFileLimit(); limit > 0 && limit < needed {
				b.Skipf("needs about %d open files (%d per segment) and RLIMIT_NOFILE is %d", needed, filesPerSegment, limit)
			}
			if dir == "" {
				dir = parent.TempDir()
				began := time.Now()
				makeOpenStoreFixture(b, dir, f)
				b.Logf("fixture: %d partitions × %d segments made in %v", f.partitions, f.segments, time.Since(began).Round(time.Millisecond))
			}
			opts := &log.Options{RetentionCheckInterval: -1}

			var before, after memory
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				before = readMemory()
				b.StartTimer()
				s, err := log.Open(dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				after = readMemory()
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			reportMemory(b, before, after)
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(f.partitions), "µs/partition")
		})
	}
}

// makeOpenStoreFixture creates f in dir: the topic through the log package, then
// the segments through the partition package (SyncNone, one Roll per sealed
// segment), a few partitions at a time so that their fsyncs overlap.
func makeOpenStoreFixture(b *testing.B, dir string, f openStoreFixture) {
	ctx := context.Background()
	s, err := log.Open(dir, &log.Options{RetentionCheckInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	err = s.CreateTopic(ctx, "t", log.TopicConfig{Partitions: f.partitions, Sync: log.SyncPolicy{Mode: log.SyncNone}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}

	records := makeRecords(10, 100)
	work := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range work {
				if err := fillPartition(ctx, filepath.Join(dir, fmt.Sprintf("t-%d", i)), records, f.segments); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range f.partitions {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// fillPartition opens the partition in dir and appends one batch of records to
// each of segments segments.
func fillPartition(ctx context.Context, dir string, records []partition.Record, segments int) error {
	p, err := partition.Open(dir, &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	if err != nil {
		return err
	}
	for i := range segments {
		if i > 0 {
			if err := p.Roll(); err != nil {
				_ = p.Close()
				return err
			}
		}
		if _, err := p.Append(ctx, records); err != nil {
			_ = p.Close()
			return err
		}
	}
	return p.Close()
}
