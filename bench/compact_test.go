package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stratalog/strata/partition"
)

// compactFixture describes the partition BenchmarkCompact cleans: totalBytes of
// records with a 100 B incompressible value and one of keys keys, appended in batches
// of 1000 under SyncNone into segments of segmentBytes, then rolled so that everything
// is sealed.
type compactFixture struct {
	totalBytes   int64
	keys         int
	segmentBytes int64
}

// write fills a new partition in dir with the fixture and returns it with the bytes
// of its .log files.
func (f compactFixture) write(tb testing.TB, dir string) (*partition.Partition, int64) {
	tb.Helper()
	p, err := partition.Open(dir, &partition.Options{
		SegmentBytes: f.segmentBytes,
		Sync:         partition.SyncPolicy{Mode: partition.SyncNone},
		Compact:      true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(f.keys), uint64(f.totalBytes)))
	records := makeRecords(1000, 100)
	keys := make([][]byte, f.keys)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%07d", i)
	}
	ctx := context.Background()
	for p.Stats().Bytes < f.totalBytes {
		for j := range records {
			records[j].Key = keys[rng.IntN(len(keys))]
		}
		if _, err := p.Append(ctx, records); err != nil {
			tb.Fatal(err)
		}
	}
	if err := p.Roll(); err != nil {
		tb.Fatal(err)
	}
	return p, p.Stats().Bytes
}

// BenchmarkCompact measures ForceCompact of 64 MiB of sealed segments whose records
// update keys=K distinct keys: building the key map, reading, verifying and decoding
// every batch twice, rewriting the batches that lose records, fsyncing the cleaned
// segments and swapping them in. MB/s counts the bytes cleaned (the .log bytes before
// compaction). The fixture is rebuilt, outside the timer, before every compaction.
func BenchmarkCompact(b *testing.B) {
	for _, f := range []compactFixture{
		{totalBytes: 64 << 20, keys: 10_000, segmentBytes: 8 << 20},
		{totalBytes: 64 << 20, keys: 10_000, segmentBytes: 64 << 20},
		{totalBytes: 64 << 20, keys: 1_000_000, segmentBytes: 8 << 20},
	} {
		b.Run(fmt.Sprintf("keys=%d/segment=%dMiB", f.keys, f.segmentBytes>>20), func(b *testing.B) {
			var records int64
			b.ReportAllocs()
			for i := range b.N {
				b.StopTimer()
				dir, err := os.MkdirTemp(b.TempDir(), "compact")
				if err != nil {
					b.Fatal(err)
				}
				p, size := f.write(b, dir)
				b.SetBytes(size)
				records += p.EndOffset()
				b.StartTimer()
				res, err := p.ForceCompact(context.Background())
				b.StopTimer()
				if err != nil || !res.Compacted {
					b.Fatalf("ForceCompact: %+v, %v", res, err)
				}
				if i == 0 {
					b.ReportMetric(float64(res.BytesWritten)/float64(res.BytesRead), "kept-ratio")
				}
				if err := p.Close(); err != nil {
					b.Fatal(err)
				}
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if b.Elapsed() > 0 {
				b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
			}
		})
	}
}

// TestCompactFixture checks, on a small fixture, that a compaction of it leaves
// exactly one record per key: a benchmark that cleaned nothing would report a
// wonderful figure.
func TestCompactFixture(t *testing.T) {
	f := compactFixture{totalBytes: 2 << 20, keys: 500, segmentBytes: 256 << 10}
	p, _ := f.write(t, t.TempDir())
	defer p.Close()
	res, err := p.ForceCompact(context.Background())
	if err != nil || !res.Compacted || res.RecordsRemoved == 0 {
		t.Fatalf("ForceCompact: %+v, %v", res, err)
	}
	r := p.NewReader(0, 0)
	seen := map[string]bool{}
	for {
		rec, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			break
		}
		if seen[string(rec.Key)] {
			t.Fatalf("key %s twice after compaction", rec.Key)
		}
		seen[string(rec.Key)] = true
	}
	if len(seen) != f.keys {
		t.Fatalf("%d keys after compaction, want %d", len(seen), f.keys)
	}
}
