package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// baseTimestamp is the timestamp (ms) of offset 0 in every benchmark partition; record
// i of a fixture has timestamp baseTimestamp+i, so OffsetForTime has a known answer.
const baseTimestamp = 1_795_000_000_000 // 2026-11-18

// openPartition opens a partition in a fresh b.TempDir() and closes it at cleanup.
func openPartition(tb testing.TB, opts *partition.Options) *partition.Partition {
	tb.Helper()
	p, err := partition.Open(tb.TempDir(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Error(err)
		}
	})
	return p
}

// makeRecords returns n records with values of valueSize pseudo-random bytes, no key,
// and timestamps set (as a producer sets them, so Append does not copy the slice to
// fill them in). The values are incompressible, which matters only with compression.
func makeRecords(n, valueSize int) []partition.Record {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(valueSize)))
	values := make([]byte, n*valueSize)
	for i := range values {
		values[i] = byte(rng.Uint32())
	}
	records := make([]partition.Record, n)
	for i := range records {
		records[i] = partition.Record{
			Timestamp: baseTimestamp + int64(i),
			Value:     values[i*valueSize : (i+1)*valueSize : (i+1)*valueSize],
		}
	}
	return records
}

// encodedSize returns the size of records encoded as one uncompressed batch: the
// bytes an append writes to the .log.
func encodedSize(tb testing.TB, records []partition.Record) int {
	tb.Helper()
	batch, err := segment.AppendBatch(nil, records, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return len(batch)
}

// fixture describes the records written by writeFixture.
type fixture struct {
	batches        int // batches written
	batchRecords   int // records per batch
	valueSize      int // bytes per value
	batchesPerRoll int // Roll after this many batches (0: never)
}

func (f fixture) records() int64 { return int64(f.batches * f.batchRecords) }

// writeFixture appends f's batches to p; the record at offset i has timestamp
// baseTimestamp+i. It returns the bytes of the .log files.
func writeFixture(tb testing.TB, p *partition.Partition, f fixture) int64 {
	tb.Helper()
	ctx := context.Background()
	records := makeRecords(f.batchRecords, f.valueSize)
	for i := range f.batches {
		for j := range records {
			records[j].Timestamp = baseTimestamp + int64(i*f.batchRecords+j)
		}
		if _, err := p.Append(ctx, records); err != nil {
			tb.Fatal(err)
		}
		if f.batchesPerRoll > 0 && (i+1)%f.batchesPerRoll == 0 && i+1 < f.batches {
			if err := p.Roll(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := p.Sync(ctx); err != nil {
		tb.Fatal(err)
	}
	return p.Stats().Bytes
}

// readPass reads every record from offset 0 to the end with r (rewound first), the
// way a consumer catching up does, and returns how many it read and the sum of their
// value lengths (so that the loop cannot be optimized away).
func readPass(r *partition.Reader) (records, valueBytes int64, err error) {
	r.SetOffset(0)
	for {
		rec, err := r.TryNext()
		if err != nil {
			return records, valueBytes, err
		}
		if rec == nil {
			return records, valueBytes, nil
		}
		if rec.Offset != records {
			return records, valueBytes, fmt.Errorf("record %d has offset %d", records, rec.Offset)
		}
		records++
		valueBytes += int64(len(rec.Value))
	}
}

// readBatchesPass fetches every batch from offset 0 to end with ReadBatches, maxBytes
// at a time, into buf, and returns buf, the bytes fetched and the offset reached.
func readBatchesPass(p *partition.Partition, buf []byte, maxBytes int, end int64) ([]byte, int64, int64, error) {
	var offset, total int64
	for offset < end {
		var err error
		buf, err = p.ReadBatches(buf[:0], offset, maxBytes)
		if err != nil {
			return buf, total, offset, err
		}
		if len(buf) == 0 {
			return buf, total, offset, fmt.Errorf("no batches at offset %d below end %d", offset, end)
		}
		total += int64(len(buf))
		for pos := 0; pos < len(buf); {
			h, err := segment.ParseBatchHeader(buf[pos:], len(buf))
			if err != nil {
				return buf, total, offset, err
			}
			pos += h.Size()
			offset = h.NextOffset()
		}
	}
	return buf, total, offset, nil
}

// randomOffsets returns n offsets in [0, end) from a seeded generator, so that every
// run looks up the same offsets.
func randomOffsets(n int, end int64) []int64 {
	rng := rand.New(rand.NewPCG(1, 2))
	offsets := make([]int64, n)
	for i := range offsets {
		offsets[i] = rng.Int64N(end)
	}
	return offsets
}

// TestFixtures checks, on a small partition, that the helpers the benchmarks rely on
// read and find what was written: a benchmark that silently read nothing would report
// a wonderful figure. It is fast (a few fsyncs) and runs without -bench.
func TestFixtures(t *testing.T) {
	f := fixture{batches: 12, batchRecords: 10, valueSize: 100, batchesPerRoll: 4}
	p := openPartition(t, &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	size := writeFixture(t, p, f)
	st := p.Stats()
	if st.Segments != 3 || st.EndOffset != f.records() {
		t.Fatalf("fixture has %d segments and end offset %d, want 3 and %d", st.Segments, st.EndOffset, f.records())
	}

	r := p.NewReader(0, 1000)
	for pass := range 2 { // the second pass checks the rewind
		n, valueBytes, err := readPass(r)
		if err != nil || n != f.records() || valueBytes != f.records()*int64(f.valueSize) {
			t.Fatalf("readPass %d: %d records, %d value bytes, %v; want %d, %d", pass, n, valueBytes, err, f.records(), f.records()*int64(f.valueSize))
		}
	}

	_, total, reached, err := readBatchesPass(p, nil, 1000, st.EndOffset)
	if err != nil || total != size || reached != st.EndOffset {
		t.Fatalf("readBatchesPass: %d bytes up to offset %d, %v; want %d bytes up to %d", total, reached, err, size, st.EndOffset)
	}

	for _, offset := range randomOffsets(50, st.EndOffset) {
		loc, err := p.Locate(offset)
		if err != nil || offset < loc.BatchBase || offset > loc.BatchLast {
			t.Fatalf("Locate(%d) = %+v, %v", offset, loc, err)
		}
		got, found, err := p.OffsetForTime(baseTimestamp + offset)
		if err != nil || !found || got != offset {
			t.Fatalf("OffsetForTime(ts of %d) = %d, %v, %v", offset, got, found, err)
		}
	}
}
