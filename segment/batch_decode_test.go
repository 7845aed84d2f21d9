package segment

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy/xerial"

	"github.com/stratalog/strata/internal/errs"
)

// codecRawBatch builds a batch around a records blob (already compressed for a
// compressed codec) with a valid CRC.
func codecRawBatch(attributes int16, recordCount, lastOffsetDelta int32, records []byte) []byte {
	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(records))
	binary.BigEndian.PutUint32(b[8:], uint32(BatchHeaderSize-BatchOverhead+len(records)))
	b[16] = MagicV2
	binary.BigEndian.PutUint16(b[21:], uint16(attributes))
	binary.BigEndian.PutUint32(b[23:], uint32(lastOffsetDelta))
	binary.BigEndian.PutUint64(b[27:], 1000)
	binary.BigEndian.PutUint64(b[35:], 2000)
	binary.BigEndian.PutUint64(b[43:], math.MaxUint64)
	binary.BigEndian.PutUint16(b[51:], math.MaxUint16)
	binary.BigEndian.PutUint32(b[53:], math.MaxUint32)
	binary.BigEndian.PutUint32(b[57:], uint32(recordCount))
	b = append(b, records...)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], batchCRCTable))
	return b
}

func codecHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecoderMalformedRecords(t *testing.T) {
	// A valid record for reference: length 6, attributes 0, timestampDelta 0,
	// offsetDelta 0, key null, value null, no headers.
	const valid = "0c 00 00 00 01 01 00"
	tests := []struct {
		name            string
		records         string
		count, lastDelt int32
		why             string
	}{
		{"valid", valid, 1, 0, ""},
		{"fewer records than recordCount", valid, 2, 1, "ends after 1 of 2 records"},
		{"no records at all", "", 1, 0, "ends after 0 of 1 records"},
		{"bytes after the last record", valid + " 00", 1, 0, "follow the last"},
		{"more records than recordCount", valid + " 0c 00 00 02 01 01 00", 1, 1, "follow the last"},
		{"length varint too long", "ff ff ff ff ff 01", 1, 0, "length varint"},
		{"length varint overflow", "fe ff ff ff 1f", 1, 0, "length varint"},
		{"length varint truncated", "80", 1, 0, "length varint"},
		{"negative length", "01", 1, 0, "record length -1"},
		{"length below minimum", "0a 00 00 00 01 01", 1, 0, "record length 5"},
		{"length beyond the batch", "0e 00 00 00 01 01 00", 1, 0, "record length 7"},
		{"timestampDelta too long", "20 00 ff ff ff ff ff ff ff ff ff ff 01 00 01 01 00", 1, 0, "timestampDelta"},
		{"timestampDelta overflow", "1e 00 ff ff ff ff ff ff ff ff ff 02 00 01 01 00", 1, 0, "timestampDelta"},
		{"timestampDelta of 10 bytes", "1e 00 ff ff ff ff ff ff ff ff ff 01 00 01 01 00", 1, 0, ""},
		{"offsetDelta truncated", "0c 00 00 80 80 80 80", 1, 0, "offsetDelta"},
		{"offsetDelta beyond lastOffsetDelta", "0c 00 00 02 01 01 00", 1, 0, "offsetDelta 1"},
		{"offsetDelta negative", "0c 00 00 01 01 01 00", 1, 0, "offsetDelta -1"},
		{"offsetDelta repeated", valid + " " + valid, 2, 1, "offsetDelta 0 after 0"},
		{"key length -2", "0c 00 00 00 03 01 00", 1, 0, "key length"},
		{"key swallows the value length", "0c 00 00 00 02 01 00", 1, 0, "header count"},
		{"key past the record", "0c 00 00 00 0a 01 00", 1, 0, "key length"},
		{"value length -2", "0c 00 00 00 01 03 00", 1, 0, "value length"},
		{"value past the record", "0c 00 00 00 01 04 00", 1, 0, "value length"},
		{"negative header count", "0c 00 00 00 01 01 01", 1, 0, "header count"},
		{"header count past the record", "0c 00 00 00 01 01 02", 1, 0, "header key length"},
		{"null header key", "10 00 00 00 01 01 02 01 01", 1, 0, "header key length"},
		{"header value past the record", "10 00 00 00 01 01 02 00 04", 1, 0, "header value length"},
		{"bytes left in the record", "0e 00 00 00 01 01 00 00 " + valid, 2, 1, "left over"},
		{"headers then bytes left", "12 00 00 00 01 01 02 00 01 00", 1, 0, "left over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := codecRawBatch(0, tt.count, tt.lastDelt, codecHex(tt.records))
			if _, err := VerifyBatch(b, 1<<20); err != nil {
				t.Fatalf("test batch invalid: %v", err)
			}
			var d Decoder
			if err := d.Reset(b); err != nil {
				t.Fatal(err)
			}
			var r Record
			var err error
			for n := 0; n < 10; n++ {
				var ok bool
				if ok, err = d.Next(&r); !ok {
					break
				}
			}
			if tt.why == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, errs.ErrCorrupt) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("error %v, want ErrCorrupt saying %q", err, tt.why)
			}
			if ok, again := d.Next(&r); ok || again != err {
				t.Fatalf("error not sticky: %v, %v", ok, again)
			}
		})
	}
}

func TestDecoderGaps(t *testing.T) {
	// After compaction offset deltas have gaps and lastOffsetDelta exceeds
	// recordCount-1; the decoder returns the offsets as they are.
	records := "0c 00 00 04 01 01 00" + "0c 00 00 0e 01 01 00" // offsetDelta 2, 7
	b := codecRawBatch(0, 2, 9, codecHex(records))
	SetBaseOffset(b, 100)
	got := codecDecodeAll(t, b, 0)
	if len(got) != 2 || got[0].Offset != 102 || got[1].Offset != 107 {
		t.Fatalf("records %+v", got)
	}
	// An empty batch (every record compacted away) is valid.
	empty := codecRawBatch(0, 0, 9, nil)
	if got := codecDecodeAll(t, empty, 0); len(got) != 0 {
		t.Fatalf("records %+v", got)
	}
}

func TestDecoderLogAppendTime(t *testing.T) {
	records := codecTestRecords(5, 1)
	b, err := AppendBatch(nil, records, &BatchOptions{LogAppendTime: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range codecDecodeAll(t, b, 0) {
		if r.Timestamp != records[4].Timestamp {
			t.Fatalf("timestamp %d, want maxTimestamp %d", r.Timestamp, records[4].Timestamp)
		}
	}
}

func TestDecoderCodecs(t *testing.T) {
	record := codecHex("0c 00 00 00 01 01 00")
	lz4 := codecRawBatch(int16(CompressionLZ4), 1, 0, record)
	var d Decoder
	err := d.Reset(lz4)
	if !errors.Is(err, ErrUnsupportedCompression) || errors.Is(err, errs.ErrCorrupt) {
		t.Fatalf("lz4: %v, want ErrUnsupportedCompression and not ErrCorrupt", err)
	}
	if ok, nextErr := d.Next(&Record{}); ok || nextErr != err {
		t.Fatalf("Next after a failed Reset: %v, %v", ok, nextErr)
	}
	for _, codec := range []int16{5, 6, 7} {
		err := d.Reset(codecRawBatch(codec, 1, 0, record))
		if !errors.Is(err, errs.ErrCorrupt) {
			t.Fatalf("codec %d: %v, want ErrCorrupt", codec, err)
		}
	}
	// Reset after an error starts afresh.
	if err := d.Reset(codecRawBatch(0, 1, 0, record)); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Next(&Record{}); !ok || err != nil {
		t.Fatalf("Next: %v, %v", ok, err)
	}
}

func TestDecoderResetBounds(t *testing.T) {
	b, _ := AppendBatch(nil, codecTestRecords(3, 1), nil)
	var d Decoder
	if err := d.Reset(b[:len(b)-1]); !errors.Is(err, errs.ErrCorrupt) {
		t.Fatalf("truncated batch: %v", err)
	}
	if d.Header() != (BatchHeader{}) {
		t.Fatalf("Header after a failed Reset: %+v", d.Header())
	}
	// Bytes beyond the batch (the next batch of a log) are ignored.
	if err := d.Reset(append(b, b...)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		ok, err := d.Next(&Record{})
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d records", n)
	}
	// The zero Decoder has no records.
	var zero Decoder
	if ok, err := zero.Next(&Record{}); ok || err != nil {
		t.Fatalf("zero Decoder: %v, %v", ok, err)
	}
}

func TestDecoderDoesNotAllocate(t *testing.T) {
	headerRecords := codecTestRecords(200, 1)
	for i := range headerRecords {
		headerRecords[i].Headers = []Header{{Key: "trace-id", Value: []byte("abc")}, {Key: "source", Value: nil}}
	}
	for _, tc := range []struct {
		name    string
		records []Record
	}{
		{"no headers", codecTestRecords(1000, 1)},
		{"repeated header keys", headerRecords},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := AppendBatch(nil, tc.records, nil)
			if err != nil {
				t.Fatal(err)
			}
			var d Decoder
			var r Record
			decode := func() {
				if err := d.Reset(b); err != nil {
					t.Fatal(err)
				}
				for {
					ok, err := d.Next(&r)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						return
					}
				}
			}
			decode() // warm the header slice and the key cache
			if allocs := testing.AllocsPerRun(20, decode); allocs != 0 {
				t.Fatalf("%v allocations per batch of %d records", allocs, len(tc.records))
			}
		})
	}
}

// TestDecoderCompressedAllocations checks that decoding compressed batches reuses
// the decoder's buffer: a few allocations per batch, none per record.
func TestDecoderCompressedAllocations(t *testing.T) {
	for _, c := range []Compression{CompressionGzip, CompressionSnappy, CompressionZstd} {
		if !codecPoolsKeepObjects() {
			t.Skip("sync.Pool drops objects on purpose under the race detector")
		}
		var perBatch []float64
		for _, n := range []int{10, 2000} {
			b, err := AppendBatch(nil, codecTestRecords(n, 1), &BatchOptions{Compression: c})
			if err != nil {
				t.Fatal(err)
			}
			var d Decoder
			var r Record
			decode := func() {
				if err := d.Reset(b); err != nil {
					t.Fatal(err)
				}
				for {
					ok, err := d.Next(&r)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						return
					}
				}
			}
			decode()
			perBatch = append(perBatch, testing.AllocsPerRun(20, decode))
		}
		t.Logf("%v: %v allocations per batch of 10 and 2000 records", c, perBatch)
		if perBatch[0] > 3 || perBatch[1] > perBatch[0]+1 {
			t.Errorf("%v: %v allocations per batch of 10 and 2000 records", c, perBatch)
		}
	}
}

var updateCodecSeeds = flag.Bool("update-codec-seeds", false,
	"rewrite the seed corpora of FuzzDecoder and FuzzParseBatchHeader in testdata/fuzz")

// TestWriteCodecFuzzSeeds writes the seed corpora under testdata/fuzz when run with
// -update-codec-seeds; go test runs the seeds of every Fuzz target as tests.
func TestWriteCodecFuzzSeeds(t *testing.T) {
	if !*updateCodecSeeds {
		t.Skip("run with -update-codec-seeds to rewrite the seed corpora")
	}
	seeds := map[string][]byte{}
	headerRecords := codecTestRecords(3, 9)
	headerRecords[1].Headers = []Header{{Key: "trace", Value: []byte("abc")}, {Key: "null", Value: nil}}
	headerRecords[2].Key = []byte{}
	for _, c := range codecAll {
		b, err := AppendBatch(nil, headerRecords, &BatchOptions{Compression: c, Idempotent: true, ProducerID: 7, BaseSequence: 3})
		if err != nil {
			t.Fatal(err)
		}
		SetBaseOffset(b, 1000)
		seeds["valid-"+c.String()] = b
		seeds["truncated-"+c.String()] = b[:len(b)*2/3]
		garbled := append([]byte{}, b...)
		for i := BatchHeaderSize; i < len(garbled); i += 7 {
			garbled[i] ^= 0x5a
		}
		seeds["garbled-"+c.String()] = garbled
	}
	golden, _ := AppendBatch(nil, codecGoldenRecords(), nil)
	seeds["golden"] = golden
	seeds["header-only"] = golden[:BatchHeaderSize]
	seeds["empty-batch"] = codecRawBatch(0, 0, 4, nil)
	seeds["lz4"] = codecRawBatch(int16(CompressionLZ4), 1, 0, codecHex("0c 00 00 00 01 01 00"))
	seeds["log-append-time"] = codecRawBatch(attributeLogAppendTime, 1, 0, codecHex("0c 00 00 00 01 01 00"))
	seeds["snappy-xerial"] = codecRawBatch(int16(CompressionSnappy), 2, 1,
		xerial.Encode(nil, golden[BatchHeaderSize:]))
	seeds["varint-overflow"] = codecRawBatch(0, 1, 0, codecHex("ff ff ff ff ff 01"))
	huge := append([]byte{}, golden...)
	binary.BigEndian.PutUint32(huge[8:], 369296128)
	seeds["length-369296128"] = huge

	write := func(target, name string, values ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		text := "go test fuzz v1\n"
		for _, v := range values {
			switch v := v.(type) {
			case []byte:
				text += fmt.Sprintf("[]byte(%q)\n", v)
			case int:
				text += fmt.Sprintf("int(%d)\n", v)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range seeds {
		write("FuzzDecoder", name, b)
		if len(b) >= BatchHeaderSize && !strings.HasPrefix(name, "garbled") {
			write("FuzzParseBatchHeader", name, b[:BatchHeaderSize], 1<<20)
		}
	}
	write("FuzzParseBatchHeader", "short", golden[:60], 1<<20)
	write("FuzzParseBatchHeader", "max-is-size", golden, len(golden))
	write("FuzzParseBatchHeader", "negative-max", golden, -1)
}

func FuzzDecoder(f *testing.F) {
	// More seeds, kept small so that minimizing is quick, are in testdata/fuzz.
	for _, c := range codecAll {
		b, err := AppendBatch(nil, codecTestRecords(3, uint64(c)), &BatchOptions{Compression: c})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	const limit = 64 << 10
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseBatchHeader(b, 1<<20)
		if err != nil {
			return
		}
		if len(b) > h.Size() {
			b = b[:h.Size()]
		}
		d := Decoder{MaxDecompressedBytes: limit}
		if err := d.Reset(b); err != nil {
			if !errors.Is(err, errs.ErrCorrupt) && !errors.Is(err, ErrUnsupportedCompression) {
				t.Fatalf("Reset error %v is neither ErrCorrupt nor ErrUnsupportedCompression", err)
			}
			if cap(d.buf) > limit {
				t.Fatalf("decoder buffer grew to %d bytes, limit %d", cap(d.buf), limit)
			}
			return
		}
		if cap(d.buf) > limit {
			t.Fatalf("decoder buffer grew to %d bytes, limit %d", cap(d.buf), limit)
		}
		var r Record
		var previous int64 = -1
		for n := 0; ; n++ {
			ok, err := d.Next(&r)
			if err != nil {
				if !errors.Is(err, errs.ErrCorrupt) {
					t.Fatalf("Next error %v does not wrap ErrCorrupt", err)
				}
				return
			}
			if !ok {
				if int32(n) != h.RecordCount {
					t.Fatalf("%d records, recordCount %d", n, h.RecordCount)
				}
				return
			}
			if r.Offset <= previous || r.Offset > h.LastOffset() || r.Offset < h.BaseOffset {
				t.Fatalf("offset %d after %d in batch %d..%d", r.Offset, previous, h.BaseOffset, h.LastOffset())
			}
			previous = r.Offset
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	const records, valueSize = 1000, 100
	for _, c := range codecAll {
		batch, err := AppendBatch(nil, codecTestRecords(records, 1), &BatchOptions{Compression: c})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("records=%d/value=%d/compression=%v", records, valueSize, c), func(b *testing.B) {
			var d Decoder
			var r Record
			b.SetBytes(int64(records * valueSize))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := VerifyBatch(batch, math.MaxInt32); err != nil {
					b.Fatal(err)
				}
				if err := d.Reset(batch); err != nil {
					b.Fatal(err)
				}
				for {
					ok, err := d.Next(&r)
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
				}
			}
			b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
		})
	}
	// The floor under any reader, measured in the same run: the CRC alone.
	batch, _ := AppendBatch(nil, codecTestRecords(records, 1), nil)
	b.Run(fmt.Sprintf("records=%d/value=%d/baseline=crc32c", records, valueSize), func(b *testing.B) {
		b.SetBytes(int64(records * valueSize))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := VerifyBatch(batch, math.MaxInt32); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
	})
}
