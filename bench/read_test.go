package bench

import (
	"fmt"
	"testing"

	"github.com/stratalog/strata/internal/benchreport"
	"github.com/stratalog/strata/partition"
)

// readFixture is BenchmarkRead's partition: 1,024,000 records of 100 B in batches of
// 1000 (110,933 bytes each), 113.6 MB in one segment, in the page cache since it was
// just written.
var readFixture = fixture{batches: 1024, batchRecords: 1000, valueSize: 100}

// BenchmarkRead measures reading the whole of readFixture from offset 0 per op:
// sequential with a Reader (TryNext loop: fetch 1 MiB of batches, verify each CRC,
// decode records without copying them; on Linux the batches are a view of the
// segment's memory mapping), the same without CRC checks (Kafka's check.crcs=false),
// and raw with ReadBatches (a copy), 1 MiB at a time.
func BenchmarkRead(b *testing.B) {
	p := openPartition(b, &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	size := writeFixture(b, p, readFixture)
	end := p.EndOffset()

	sequential := func(check bool) func(b *testing.B) {
		return func(b *testing.B) {
			r := p.NewReader(0, 0)
			r.SetCheckCRCs(check)
			if _, _, err := readPass(r); err != nil { // warm: the Reader's buffer
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ReportAllocs()
			allocsBefore := benchreport.Mallocs()
			for b.Loop() {
				n, _, err := readPass(r)
				if err != nil || n != end {
					b.Fatalf("read %d records of %d: %v", n, end, err)
				}
			}
			benchreport.Records(b, int64(b.N)*end, allocsBefore)
		}
	}
	b.Run("sequential", sequential(true))
	b.Run("sequential/check-crcs=false", sequential(false))

	b.Run("batches/max-bytes=1MiB", func(b *testing.B) {
		buf, _, _, err := readBatchesPass(p, nil, 1<<20, end)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(size)
		b.ReportAllocs()
		allocsBefore := benchreport.Mallocs()
		for b.Loop() {
			var total, reached int64
			buf, total, reached, err = readBatchesPass(p, buf, 1<<20, end)
			if err != nil || total != size || reached != end {
				b.Fatalf("read %d bytes up to offset %d of %d: %v", total, reached, end, err)
			}
		}
		benchreport.Records(b, int64(b.N)*end, allocsBefore)
	})
}

// lookupFixture returns the partition of BenchmarkLookup and BenchmarkOffsetForTime:
// 1,000,000 records of 100 B in batches of 100 (11,033 bytes each, so one offset and
// time index entry per batch) spread over the given number of segments with Roll.
func lookupFixture(b *testing.B, segments int) *partition.Partition {
	f := fixture{batches: 10_000, batchRecords: 100, valueSize: 100}
	if segments > 1 {
		f.batchesPerRoll = f.batches / segments
	}
	p := openPartition(b, &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	writeFixture(b, p, f)
	if got := p.Stats().Segments; got != segments {
		b.Fatalf("fixture has %d segments, want %d", got, segments)
	}
	return p
}

// BenchmarkLookup finds random offsets (seeded): Locate (binary search over
// segments, index lookup, scan of batch headers) and ReadBatches of the one batch
// holding the offset (Locate's work plus reading the batch), the start of every
// consumer fetch.
func BenchmarkLookup(b *testing.B) {
	for _, segments := range []int{1, 1000} {
		b.Run(fmt.Sprintf("segments=%d", segments), func(b *testing.B) {
			p := lookupFixture(b, segments)
			offsets := randomOffsets(4096, p.EndOffset())

			b.Run("op=locate", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					offset := offsets[i%len(offsets)]
					loc, err := p.Locate(offset)
					if err != nil || offset < loc.BatchBase || offset > loc.BatchLast {
						b.Fatalf("Locate(%d) = %+v, %v", offset, loc, err)
					}
				}
			})

			b.Run("op=read-batch", func(b *testing.B) {
				buf, err := p.ReadBatches(nil, 0, 1)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(buf)))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if buf, err = p.ReadBatches(buf[:0], offsets[i%len(offsets)], 1); err != nil || len(buf) == 0 {
						b.Fatalf("ReadBatches(%d): %d bytes, %v", offsets[i%len(offsets)], len(buf), err)
					}
				}
			})
		})
	}
}

// BenchmarkOffsetForTime finds the first offset at or after a random timestamp
// (Kafka's ListOffsets by time): the segment whose max timestamp reaches it, its time
// and offset indexes, then decoding the batch that holds it.
func BenchmarkOffsetForTime(b *testing.B) {
	for _, segments := range []int{1, 1000} {
		b.Run(fmt.Sprintf("segments=%d", segments), func(b *testing.B) {
			p := lookupFixture(b, segments)
			offsets := randomOffsets(4096, p.EndOffset())
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				want := offsets[i%len(offsets)]
				got, found, err := p.OffsetForTime(baseTimestamp + want)
				if err != nil || !found || got != want {
					b.Fatalf("OffsetForTime(ts of %d) = %d, %v, %v", want, got, found, err)
				}
			}
		})
	}
}
