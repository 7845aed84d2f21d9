package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stratalog/strata/partition"
)

// memory is a reading of the process's memory after a GC.
type memory struct {
	heapInuse  uint64 // runtime.MemStats.HeapInuse: bytes in in-use heap spans
	heapAlloc  uint64 // runtime.MemStats.HeapAlloc: bytes of live heap objects
	rss        uint64 // VmRSS from /proc/self/status; 0 where unavailable
	goroutines int
	files      int // entries of /proc/self/fd; 0 where unavailable
}

// readMemory collects garbage (twice, so that finalizers run and what they free
// is collected too) and reads the process's memory.
func readMemory() memory {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memory{heapInuse: ms.HeapInuse, heapAlloc: ms.HeapAlloc, goroutines: runtime.NumGoroutine()}
	m.rss = vmRSS()
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		m.files = len(entries)
	}
	return m
}

// vmRSS returns the resident set size from /proc/self/status, 0 if unavailable.
func vmRSS() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	scanner := bufio.NewScanner(bytes.NewReader(status))
	for scanner.Scan() {
		line := scanner.Bytes()
		value, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(value) // "123456", "kB"
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0
		}
		kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// mib converts bytes to MiB.
func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// reportMemory reports what opening something added to the process: heap-MiB
// (HeapInuse of the whole process with it open, the figure the goals bound),
// heap-delta-MiB (live heap added by opening), rss-MiB (VmRSS with it open, if
// known), goroutines and open files added. before is a reading taken before the
// open, after one with it open.
func reportMemory(b *testing.B, before, after memory) {
	b.ReportMetric(mib(after.heapInuse), "heap-MiB")
	b.ReportMetric(mib(after.heapAlloc)-mib(before.heapAlloc), "heap-delta-MiB")
	if after.rss > 0 {
		b.ReportMetric(mib(after.rss), "rss-MiB")
	}
	b.ReportMetric(float64(after.goroutines-before.goroutines), "goroutines")
	if after.files > 0 {
		b.ReportMetric(float64(after.files-before.files), "open-files")
	}
}

// indexMemoryLogBytes is how much log BenchmarkIndexMemory writes (in segments of
// indexMemorySegmentBytes: three sealed ones and the active one); its figures are
// scaled to a GiB of log.
const (
	indexMemoryLogBytes     = 256 << 20
	indexMemorySegmentBytes = 64 << 20
)

// BenchmarkIndexMemory measures the in-memory index of a partition holding 256 MiB
// of log, with the default IndexIntervalBytes (4096): each op opens the partition
// (closed cleanly, so the indexes are loaded from their files, not rebuilt),
// reads the live heap it added, and closes it; the same for an empty partition,
// whose heap is the fixed cost of a partition. Reported per GiB of log:
// heap-bytes/GiB (live heap of the full partition minus the empty one's),
// index-file-bytes/GiB (the .index and .timeindex files) and entries/GiB (offset
// index entries). How many entries there are depends on the batches: one per batch
// when a batch exceeds the interval (batch=1000: 110,933-byte batches), one per
// interval when batches are smaller (batch=10: 1,133-byte batches), the worst case.
func BenchmarkIndexMemory(b *testing.B) {
	opts := &partition.Options{
		SegmentBytes: indexMemorySegmentBytes,
		Sync:         partition.SyncPolicy{Mode: partition.SyncNone},
	}
	for _, batch := range []int{1000, 10} {
		parent := b
		var full, empty string // made once: the function below runs once per b.N tried
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			if full == "" {
				full, empty = parent.TempDir(), parent.TempDir()
				makeIndexMemoryFixture(b, full, batch, opts)
				makeIndexMemoryFixture(b, empty, 0, opts)
			}
			logBytes, indexBytes, entries := indexFiles(b, full)

			var fullHeap, emptyHeap int64
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				fullHeap = openedHeap(b, full, opts)
				emptyHeap = openedHeap(b, empty, opts)
			}
			b.StopTimer()
			perGiB := float64(1<<30) / float64(logBytes)
			b.ReportMetric(float64(fullHeap-emptyHeap)*perGiB, "heap-bytes/GiB")
			b.ReportMetric(float64(emptyHeap), "empty-partition-heap-bytes")
			b.ReportMetric(float64(indexBytes)*perGiB, "index-file-bytes/GiB")
			b.ReportMetric(float64(entries)*perGiB, "entries/GiB")
		})
	}
}

// makeIndexMemoryFixture writes indexMemoryLogBytes of log to a new partition in
// dir, in batches of batch records of 100 B with rising timestamps (as a
// producer's, so that the time index gets its entries too), and closes it; with
// batch 0 it leaves the partition empty.
func makeIndexMemoryFixture(b *testing.B, dir string, batch int, opts *partition.Options) {
	p, err := partition.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	if batch > 0 {
		batchBytes := encodedSize(b, makeRecords(batch, 100))
		writeFixture(b, p, fixture{
			batches:      indexMemoryLogBytes/batchBytes + 1,
			batchRecords: batch,
			valueSize:    100,
		})
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
}

// openedHeap opens the partition in dir, returns the live heap bytes it added
// (after GC), and closes it.
func openedHeap(b *testing.B, dir string, opts *partition.Options) int64 {
	before := readMemory()
	p, err := partition.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	after := readMemory()
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	return int64(after.heapAlloc) - int64(before.heapAlloc)
}

// indexFiles returns the bytes of the .log files in dir, of the .index and
// .timeindex files, and the number of offset index entries (8 bytes each).
func indexFiles(b *testing.B, dir string) (logBytes, indexBytes, entries int64) {
	files, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		info, err := f.Info()
		if err != nil {
			b.Fatal(err)
		}
		switch filepath.Ext(f.Name()) {
		case ".log":
			logBytes += info.Size()
		case ".index":
			indexBytes += info.Size()
			entries += info.Size() / 8
		case ".timeindex":
			indexBytes += info.Size()
		}
	}
	if logBytes == 0 {
		b.Fatal("no .log files")
	}
	return logBytes, indexBytes, entries
}
