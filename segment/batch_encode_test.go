package segment

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/stratalog/strata/internal/errs"
)

var codecAll = []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionZstd}

// codecValue returns size bytes of loosely compressible text (like JSON payloads):
// fixed words with random numbers in between.
func codecValue(rng *rand.Rand, size int) []byte {
	words := []string{`{"user":`, `,"event":"click","page":"/home","ms":`, `,"ok":true}`}
	b := make([]byte, 0, size+32)
	for i := 0; len(b) < size; i++ {
		b = append(b, words[i%len(words)]...)
		b = strconv.AppendUint(b, rng.Uint64N(1_000_000), 10)
	}
	return b[:size]
}

// codecTestRecords returns n records with 100-byte values, null keys and no headers,
// timestamps one millisecond apart.
func codecTestRecords(n int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, 1))
	records := make([]Record, n)
	for i := range records {
		records[i] = Record{Timestamp: 1700000000000 + int64(i), Value: codecValue(rng, 100)}
	}
	return records
}

// codecMixedRecords returns records that cover every corner of the record format:
// null and empty keys and values, headers with null and empty values, timestamps out
// of order (negative deltas) and far apart, sizes that cross varint boundaries.
func codecMixedRecords(n int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, 2))
	sizes := []int{0, 1, 63, 64, 65, 127, 128, 8191, 8192, 100, 1000}
	field := func() []byte {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []byte{}
		default:
			return codecValue(rng, sizes[rng.IntN(len(sizes))])
		}
	}
	records := make([]Record, n)
	for i := range records {
		r := Record{
			Timestamp: 1700000000000 + rng.Int64N(2_000_000_000) - 1_000_000_000,
			Key:       field(),
			Value:     field(),
		}
		for range rng.IntN(4) {
			r.Headers = append(r.Headers, Header{Key: fmt.Sprintf("h%d", rng.IntN(5)), Value: field()})
		}
		if rng.IntN(10) == 0 {
			r.Headers = append(r.Headers, Header{Key: "", Value: nil})
		}
		records[i] = r
	}
	return records
}

// codecDecodeAll verifies and decodes batch b, returning copies of its records.
func codecDecodeAll(t testing.TB, b []byte, maxDecompressed int) []Record {
	t.Helper()
	if _, err := VerifyBatch(b, math.MaxInt32); err != nil {
		t.Fatalf("VerifyBatch: %v", err)
	}
	d := Decoder{MaxDecompressedBytes: maxDecompressed}
	if err := d.Reset(b); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	var out []Record
	var r Record
	for {
		ok, err := d.Next(&r)
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		if !ok {
			break
		}
		c := Record{Offset: r.Offset, Timestamp: r.Timestamp, Key: codecCloneNullable(r.Key), Value: codecCloneNullable(r.Value)}
		for _, h := range r.Headers {
			c.Headers = append(c.Headers, Header{Key: h.Key, Value: codecCloneNullable(h.Value)})
		}
		out = append(out, c)
	}
	if int32(len(out)) != d.Header().RecordCount {
		t.Fatalf("decoded %d records, recordCount %d", len(out), d.Header().RecordCount)
	}
	return out
}

func codecCloneNullable(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// codecCompareRecords compares records field by field, nil and empty apart.
func codecCompareRecords(t testing.TB, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	sameBytes := func(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }
	for i := range want {
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.Timestamp != w.Timestamp || !sameBytes(g.Key, w.Key) || !sameBytes(g.Value, w.Value) ||
			len(g.Headers) != len(w.Headers) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, g, w)
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key || !sameBytes(g.Headers[j].Value, w.Headers[j].Value) {
				t.Fatalf("record %d header %d: got %+v, want %+v", i, j, g.Headers[j], w.Headers[j])
			}
		}
	}
}

func TestBatchRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		records []Record
	}{
		{"one empty record", []Record{{}}},
		{"one null-key tombstone", []Record{{Timestamp: 5}}},
		{"empty key and value", []Record{{Key: []byte{}, Value: []byte{}, Timestamp: -1}}},
		{"headers", []Record{{Key: []byte("k"), Headers: []Header{{Key: "a", Value: nil}, {Key: "", Value: []byte{}}, {Key: "c", Value: []byte("v")}}}}},
		{"extreme timestamps", []Record{{Timestamp: math.MaxInt64}, {Timestamp: math.MinInt64}, {Timestamp: 0}}},
		{"mixed", codecMixedRecords(300, 1)},
		{"many", codecTestRecords(5000, 2)},
	}
	for _, c := range codecAll {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("compression=%v/%s", c, tc.name), func(t *testing.T) {
				opts := &BatchOptions{Compression: c}
				b, err := AppendBatch(nil, tc.records, opts)
				if err != nil {
					t.Fatal(err)
				}
				h, err := VerifyBatch(b, math.MaxInt32)
				if err != nil {
					t.Fatal(err)
				}
				maxTimestamp := tc.records[0].Timestamp
				for _, r := range tc.records {
					maxTimestamp = max(maxTimestamp, r.Timestamp)
				}
				if h.BaseOffset != 0 || h.Compression() != c || int(h.RecordCount) != len(tc.records) ||
					int(h.LastOffsetDelta) != len(tc.records)-1 || h.BaseTimestamp != tc.records[0].Timestamp ||
					h.MaxTimestamp != maxTimestamp || h.ProducerID != -1 || h.ProducerEpoch != -1 || h.BaseSequence != -1 {
					t.Fatalf("header %+v", h)
				}
				want := make([]Record, len(tc.records))
				for i, r := range tc.records {
					want[i] = r
					want[i].Offset = int64(i)
				}
				codecCompareRecords(t, codecDecodeAll(t, b, 0), want)
			})
		}
	}
}

func TestAppendBatchAppends(t *testing.T) {
	// Several batches appended to one buffer, each to its own end, each valid.
	var log []byte
	var ends []int
	for i, c := range codecAll {
		var err error
		log, err = AppendBatch(log, codecTestRecords(10+i, uint64(i)), &BatchOptions{Compression: c})
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, len(log))
	}
	start := 0
	for i, end := range ends {
		h, err := ParseBatchHeader(log[start:], len(log))
		if err != nil {
			t.Fatal(err)
		}
		if start+h.Size() != end {
			t.Fatalf("batch %d: size %d, ends at %d, want %d", i, h.Size(), start+h.Size(), end)
		}
		codecCompareRecords(t, codecDecodeAll(t, log[start:end], 0), codecWithOffsets(codecTestRecords(10+i, uint64(i))))
		start = end
	}
}

func codecWithOffsets(records []Record) []Record {
	for i := range records {
		records[i].Offset = int64(i)
	}
	return records
}

func TestAppendBatchOptions(t *testing.T) {
	records := codecTestRecords(3, 1)
	b, err := AppendBatch(nil, records, &BatchOptions{
		Idempotent: true, ProducerID: 1234, ProducerEpoch: 5, BaseSequence: 77, PartitionLeaderEpoch: 9,
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := VerifyBatch(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if h.ProducerID != 1234 || h.ProducerEpoch != 5 || h.BaseSequence != 77 || h.PartitionLeaderEpoch != 9 {
		t.Fatalf("header %+v", h)
	}
	// -1 spelled out without Idempotent means "none", as the zero value does.
	b2, err := AppendBatch(nil, records, &BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		t.Fatal(err)
	}
	b3, _ := AppendBatch(nil, records, nil)
	if !bytes.Equal(b2, b3) {
		t.Fatal("explicit -1 producer fields differ from the zero BatchOptions")
	}
}

func TestAppendBatchErrors(t *testing.T) {
	records := codecTestRecords(2, 1)
	tests := []struct {
		name    string
		records []Record
		opts    *BatchOptions
		want    []error
	}{
		{"no records", nil, nil, []error{errs.ErrInvalidArgument}},
		{"empty records", []Record{}, nil, []error{errs.ErrInvalidArgument}},
		{"lz4", records, &BatchOptions{Compression: CompressionLZ4}, []error{errs.ErrInvalidArgument, ErrUnsupportedCompression}},
		{"codec 5", records, &BatchOptions{Compression: 5}, []error{errs.ErrInvalidArgument}},
		{"codec -1", records, &BatchOptions{Compression: -1}, []error{errs.ErrInvalidArgument}},
		{"producer id without Idempotent", records, &BatchOptions{ProducerID: 3}, []error{errs.ErrInvalidArgument}},
		{"sequence without Idempotent", records, &BatchOptions{BaseSequence: 3}, []error{errs.ErrInvalidArgument}},
		{"negative producer id", records, &BatchOptions{Idempotent: true, ProducerID: -1}, []error{errs.ErrInvalidArgument}},
		{"transactional without producer", records, &BatchOptions{Transactional: true}, []error{errs.ErrInvalidArgument}},
		{"control without producer", records, &BatchOptions{Control: true}, []error{errs.ErrInvalidArgument}},
		{"sequence -1 outside a control batch", records, &BatchOptions{Idempotent: true, ProducerID: 1, BaseSequence: -1, Transactional: true}, []error{errs.ErrInvalidArgument}},
		{"control sequence -2", records, &BatchOptions{Idempotent: true, ProducerID: 1, BaseSequence: -2, Control: true}, []error{errs.ErrInvalidArgument}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("previous bytes")
			got, err := AppendBatch(dst, tt.records, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Fatalf("error %v is not %v", err, want)
				}
			}
			if string(got) != "previous bytes" {
				t.Fatalf("dst changed to %q", got)
			}
		})
	}
}

func TestAppendBatchDoesNotAllocate(t *testing.T) {
	for _, records := range [][]Record{codecTestRecords(1000, 1), codecMixedRecords(100, 2)} {
		dst := make([]byte, 0, 1<<20)
		opts := &BatchOptions{Idempotent: true, ProducerID: 1}
		allocs := testing.AllocsPerRun(50, func() {
			var err error
			if dst, err = AppendBatch(dst[:0], records, opts); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Fatalf("AppendBatch allocated %v times per batch", allocs)
		}
		// Capacity for exactly the batch, after some bytes already in dst, is enough.
		want, _ := AppendBatch([]byte("prefix"), records, opts)
		exact := append(make([]byte, 0, len(want)), "prefix"...)
		allocs = testing.AllocsPerRun(10, func() {
			got, err := AppendBatch(exact[:6], records, opts)
			if err != nil || string(got) != string(want) {
				t.Fatalf("AppendBatch into exact capacity: %v", err)
			}
		})
		if allocs != 0 {
			t.Fatalf("AppendBatch into exact capacity allocated %v times per batch", allocs)
		}
	}
}

// TestAppendBatchCompressedAllocations checks that compressed batches allocate O(1)
// per batch in steady state: the same for 10 and for 2000 records.
func TestAppendBatchCompressedAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for _, c := range []Compression{CompressionGzip, CompressionSnappy, CompressionZstd} {
		if !codecPoolsKeepObjects() {
			t.Skip("sync.Pool drops objects on purpose under the race detector")
		}
		var perBatch []float64
		for _, n := range []int{10, 2000} {
			records := codecTestRecords(n, 1)
			dst := make([]byte, 0, 1<<20)
			opts := &BatchOptions{Compression: c}
			allocs := testing.AllocsPerRun(20, func() {
				var err error
				if dst, err = AppendBatch(dst[:0], records, opts); err != nil {
					t.Fatal(err)
				}
			})
			perBatch = append(perBatch, allocs)
		}
		t.Logf("%v: %v allocations per batch of 10 and 2000 records", c, perBatch)
		if perBatch[0] > 3 || perBatch[1] > perBatch[0]+1 {
			t.Errorf("%v: %v allocations per batch of 10 and 2000 records", c, perBatch)
		}
	}
}

// FuzzAppendBatch checks that AppendBatch writes the same bytes whatever the
// capacity of dst (its length guesses and growth must not show), that the batch is
// valid and that it decodes to the records encoded.
func FuzzAppendBatch(f *testing.F) {
	f.Add(uint64(1), uint8(10), int32(0), uint8(0))
	f.Add(uint64(2), uint8(200), int32(-100), uint8(2))
	f.Add(uint64(3), uint8(1), int32(5), uint8(4))
	f.Fuzz(func(t *testing.T, seed uint64, count uint8, capacityDelta int32, codec uint8) {
		records := codecMixedRecords(int(count)%64+1, seed)
		c := codecAll[int(codec)%len(codecAll)]
		opts := &BatchOptions{Compression: c}
		want, err := AppendBatch(nil, records, opts)
		if err != nil {
			t.Fatal(err)
		}
		capacity := max(len(want)+int(capacityDelta)%(len(want)+1), 0)
		got, err := AppendBatch(make([]byte, 0, capacity), records, opts)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("capacity %d changed the bytes", capacity)
		}
		codecCompareRecords(t, codecDecodeAll(t, got, 0), codecWithOffsets(records))
	})
}

// codecPoolsKeepObjects reports whether sync.Pool hands back what was put in it,
// which it does not always do under the race detector.
func codecPoolsKeepObjects() bool {
	var pool sync.Pool
	x := new(int)
	for range 100 {
		pool.Put(x)
		if pool.Get() == nil {
			return false
		}
	}
	return true
}

func BenchmarkAppendBatch(b *testing.B) {
	const records, valueSize = 1000, 100
	batch := codecTestRecords(records, 1)
	for _, c := range codecAll {
		b.Run(fmt.Sprintf("records=%d/value=%d/compression=%v", records, valueSize, c), func(b *testing.B) {
			opts := &BatchOptions{Compression: c}
			dst, err := AppendBatch(nil, batch, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(records * valueSize))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = AppendBatch(dst[:0], batch, opts)
			}
			b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
			b.ReportMetric(float64(len(dst))/records, "bytes/record")
		})
	}
	// The floor under any encoder, measured in the same run: copy the values into a
	// buffer and checksum it.
	b.Run(fmt.Sprintf("records=%d/value=%d/baseline=copy+crc32c", records, valueSize), func(b *testing.B) {
		dst := make([]byte, 0, records*(valueSize+16))
		b.SetBytes(int64(records * valueSize))
		b.ReportAllocs()
		for b.Loop() {
			dst = dst[:0]
			for i := range batch {
				dst = append(dst, batch[i].Value...)
			}
			codecSink = crc32.Update(0, batchCRCTable, dst)
		}
		b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
	})
}

var codecSink uint32

// TestAppendBatchMarkerWithoutSequence: a transaction marker is written, as Kafka
// writes it, with baseSequence -1.
func TestAppendBatchMarkerWithoutSequence(t *testing.T) {
	marker := []Record{{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 7}, Timestamp: 5}}
	b, err := AppendBatch(nil, marker, &BatchOptions{Idempotent: true, ProducerID: 3, ProducerEpoch: 2, BaseSequence: -1, Transactional: true, Control: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := VerifyBatch(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseSequence != -1 || !h.IsControl() || !h.IsTransactional() || h.ProducerID != 3 || h.ProducerEpoch != 2 {
		t.Fatalf("header %+v", h)
	}
}
