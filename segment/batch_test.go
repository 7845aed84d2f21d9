package segment

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stratalog/strata/internal/errs"
)

// codecGoldenRecords are the records of testdata/golden_batch.hex.
func codecGoldenRecords() []Record {
	return []Record{
		{Timestamp: 1700000000000, Key: []byte("key"), Value: []byte("value")},
		{Timestamp: 1700000000010, Value: []byte("v2"), Headers: []Header{{Key: "h", Value: []byte("x")}}},
	}
}

// codecReadHex reads a hex file in which '#' starts a comment and whitespace is
// ignored.
func codecReadHex(t testing.TB, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var digits strings.Builder
	for line := range strings.Lines(string(text)) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// codecCRC32C is a bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78), written
// from the definition so that the golden test does not trust hash/crc32's table.
func codecCRC32C(data []byte) uint32 {
	crc := ^uint32(0)
	for _, b := range data {
		crc ^= uint32(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x82F63B78
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

func TestBatchCRC32CCheckValue(t *testing.T) {
	// The standard check value of CRC-32C: crc("123456789") = 0xE3069283.
	if got := codecCRC32C([]byte("123456789")); got != 0xE3069283 {
		t.Fatalf("bitwise crc32c = %#x", got)
	}
}

// TestBatchGolden holds the encoder, the decoder and FORMAT.md to the hand-derived
// bytes of testdata/golden_batch.hex.
//
// Derivation (every number below is in the golden file, field by field):
//   - record 0: attributes 0, timestampDelta 0, offsetDelta 0, key "key" (length 3,
//     zig-zag 6), value "value" (length 5, zig-zag 10), 0 headers: 14 bytes after
//     its length varint, so the length is 14, zig-zag 28 = 0x1c; 15 bytes in all.
//   - record 1: attributes 0, timestampDelta 10 (zig-zag 20 = 0x14), offsetDelta 1
//     (0x02), key null (-1, zig-zag 0x01), value "v2" (0x04 + 2 bytes), 1 header
//     (0x02) with key "h" (0x02 0x68) and value "x" (0x02 0x78): 12 bytes, length
//     byte 0x18; 13 bytes in all.
//   - the header: 61 bytes; batchLength = 61 + 28 - 12 = 77 = 0x4d; baseTimestamp
//     is the first record's, maxTimestamp the greatest; producerId, producerEpoch and
//     baseSequence -1 (no producer); recordCount 2, lastOffsetDelta 1.
//   - crc: CRC-32C of bytes 21..88 (attributes to the end), checked here with a
//     bitwise implementation of the polynomial.
func TestBatchGolden(t *testing.T) {
	golden := codecReadHex(t, "testdata/golden_batch.hex")
	if len(golden) != 89 {
		t.Fatalf("golden batch is %d bytes, want 89", len(golden))
	}
	if crc := codecCRC32C(golden[21:]); crc != binary.BigEndian.Uint32(golden[17:21]) {
		t.Fatalf("golden crc field %#x, bitwise crc32c %#x", binary.BigEndian.Uint32(golden[17:21]), crc)
	}

	got, err := AppendBatch(nil, codecGoldenRecords(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, golden) {
		t.Fatalf("AppendBatch differs from the golden batch:\n got %x\nwant %x", got, golden)
	}

	h, err := VerifyBatch(golden, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := BatchHeader{
		Length: 77, Magic: 2, CRC: 0xef887e39, LastOffsetDelta: 1,
		BaseTimestamp: 1700000000000, MaxTimestamp: 1700000000010,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, RecordCount: 2,
	}
	if h != want {
		t.Fatalf("header\n got %+v\nwant %+v", h, want)
	}
	records := codecDecodeAll(t, golden, 0)
	wantRecords := codecGoldenRecords()
	wantRecords[1].Offset = 1
	codecCompareRecords(t, records, wantRecords)
}

func TestParseBatchHeaderErrors(t *testing.T) {
	valid, err := AppendBatch(nil, codecGoldenRecords(), nil)
	if err != nil {
		t.Fatal(err)
	}
	with := func(edit func(b []byte)) []byte {
		b := bytes.Clone(valid)
		edit(b)
		return b
	}
	// The largest length a header can hold fits an int only on 64-bit platforms.
	maxLengthErr := ""
	if math.MaxInt < math.MaxInt32+BatchOverhead {
		maxLengthErr = "larger than the maximum"
	}
	tests := []struct {
		name  string
		batch []byte
		max   int
		why   string
	}{
		{"empty", nil, 1 << 20, "truncated"},
		{"short", valid[:60], 1 << 20, "truncated"},
		{"magic 1", with(func(b []byte) { b[16] = 1 }), 1 << 20, "magic"},
		{"magic 3", with(func(b []byte) { b[16] = 3 }), 1 << 20, "magic"},
		{"length below header", with(func(b []byte) { binary.BigEndian.PutUint32(b[8:], 48) }), 1 << 20, "at least"},
		{"negative length", with(func(b []byte) { binary.BigEndian.PutUint32(b[8:], 0xffffffff) }), 1 << 20, "at least"},
		{"length above max", valid, 88, "larger than the maximum"},
		// Kafka's "Invalid receive (size = 369296128)": a TLS handshake read as a length.
		{"length 369296128", with(func(b []byte) { binary.BigEndian.PutUint32(b[8:], 369296128) }), 100 << 20, "larger than the maximum"},
		{"max length int32", with(func(b []byte) { binary.BigEndian.PutUint32(b[8:], 0x7fffffff) }), math.MaxInt, maxLengthErr},
		{"negative lastOffsetDelta", with(func(b []byte) { binary.BigEndian.PutUint32(b[23:], 0xffffffff) }), 1 << 20, "lastOffsetDelta"},
		{"negative recordCount", with(func(b []byte) { binary.BigEndian.PutUint32(b[57:], 0x80000000) }), 1 << 20, "recordCount"},
		{"recordCount above lastOffsetDelta+1", with(func(b []byte) { binary.BigEndian.PutUint32(b[57:], 3) }), 1 << 20, "recordCount"},
		{"negative baseOffset", with(func(b []byte) { SetBaseOffset(b, -1) }), 1 << 20, "baseOffset"},
		{"offset overflow", with(func(b []byte) { SetBaseOffset(b, 1<<63-2) }), 1 << 20, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBatchHeader(tt.batch, tt.max)
			if tt.why == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, errs.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

// TestParseBatchHeaderHugeLengthAllocatesNothing checks that a corrupt length is
// refused before anything its size is allocated.
func TestParseBatchHeaderHugeLengthAllocatesNothing(t *testing.T) {
	b, _ := AppendBatch(nil, codecGoldenRecords(), nil)
	binary.BigEndian.PutUint32(b[8:], 369296128)
	var d Decoder
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := ParseBatchHeader(b, 100<<20); !errors.Is(err, errs.ErrCorrupt) {
			t.Fatalf("ParseBatchHeader: %v", err)
		}
		if _, err := VerifyBatch(b, 100<<20); !errors.Is(err, errs.ErrCorrupt) {
			t.Fatalf("VerifyBatch: %v", err)
		}
		if err := d.Reset(b); !errors.Is(err, errs.ErrCorrupt) {
			t.Fatalf("Reset: %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 256<<10 {
		t.Fatalf("refusing 300 corrupt headers allocated %d bytes", allocated)
	}
}

func TestVerifyBatch(t *testing.T) {
	valid, err := AppendBatch(nil, codecTestRecords(50, 1), &BatchOptions{Compression: CompressionZstd})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyBatch(valid, 1<<20); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		edit func(b []byte) []byte
		ok   bool
	}{
		{"crc flipped", func(b []byte) []byte { b[17] ^= 0x01; return b }, false},
		{"attributes flipped", func(b []byte) []byte { b[22] ^= 0x10; return b }, false},
		{"last byte flipped", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }, false},
		{"record byte flipped", func(b []byte) []byte { b[70] ^= 0x04; return b }, false},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, false},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, false},
		{"baseOffset rewritten", func(b []byte) []byte { SetBaseOffset(b, 1234); return b }, true},
		{"leader epoch rewritten", func(b []byte) []byte { SetPartitionLeaderEpoch(b, 7); return b }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.edit(bytes.Clone(valid))
			_, err := VerifyBatch(b, 1<<20)
			if tt.ok && err != nil {
				t.Fatalf("VerifyBatch: %v", err)
			}
			if !tt.ok && !errors.Is(err, errs.ErrCorrupt) {
				t.Fatalf("VerifyBatch = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestBatchHeaderSetters(t *testing.T) {
	b, err := AppendBatch(nil, codecTestRecords(10, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	SetBaseOffset(b, 368769)
	SetPartitionLeaderEpoch(b, 42)
	h, err := VerifyBatch(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseOffset != 368769 || h.PartitionLeaderEpoch != 42 {
		t.Fatalf("header %+v", h)
	}
	if h.LastOffset() != 368778 || h.NextOffset() != 368779 || h.Size() != len(b) {
		t.Fatalf("LastOffset %d NextOffset %d Size %d (len %d)", h.LastOffset(), h.NextOffset(), h.Size(), len(b))
	}
	records := codecDecodeAll(t, b, 0)
	for i, r := range records {
		if r.Offset != 368769+int64(i) {
			t.Fatalf("record %d has offset %d", i, r.Offset)
		}
	}
}

func TestBatchHeaderAttributes(t *testing.T) {
	tests := []struct {
		opts                                  BatchOptions
		attributes                            int16
		transactional, control, logAppendTime bool
	}{
		{BatchOptions{}, 0x00, false, false, false},
		{BatchOptions{Compression: CompressionGzip}, 0x01, false, false, false},
		{BatchOptions{Compression: CompressionSnappy, LogAppendTime: true}, 0x0a, false, false, true},
		{BatchOptions{Compression: CompressionZstd, Idempotent: true, Transactional: true}, 0x14, true, false, false},
		{BatchOptions{Idempotent: true, Transactional: true, Control: true}, 0x30, true, true, false},
	}
	for _, tt := range tests {
		b, err := AppendBatch(nil, codecTestRecords(3, 1), &tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		h, err := VerifyBatch(b, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if h.Attributes != tt.attributes || h.Compression() != tt.opts.Compression ||
			h.IsTransactional() != tt.transactional || h.IsControl() != tt.control ||
			h.LogAppendTime() != tt.logAppendTime || h.HasDeleteHorizon() {
			t.Errorf("%+v: attributes %#x, %+v", tt.opts, h.Attributes, h)
		}
		if got := h.Options(); got != tt.opts {
			t.Errorf("Options() = %+v, want %+v", got, tt.opts)
		}
	}
}

func FuzzParseBatchHeader(f *testing.F) {
	golden, err := AppendBatch(nil, codecGoldenRecords(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden, 1<<20)
	f.Add(golden[:61], 61)
	f.Add(golden[:60], 1<<20)
	f.Fuzz(func(t *testing.T, b []byte, maxBatchBytes int) {
		h, err := ParseBatchHeader(b, maxBatchBytes)
		if err != nil {
			if !errors.Is(err, errs.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if h.Size() < BatchHeaderSize || h.Size() > maxBatchBytes || h.Magic != MagicV2 ||
			h.LastOffsetDelta < 0 || h.RecordCount < 0 || h.NextOffset() <= h.BaseOffset {
			t.Fatalf("accepted invalid header %+v (max %d)", h, maxBatchBytes)
		}
		// The header reads back what ParseBatchHeader parsed.
		c := bytes.Clone(b[:BatchHeaderSize])
		SetBaseOffset(c, h.BaseOffset)
		SetPartitionLeaderEpoch(c, h.PartitionLeaderEpoch)
		if !bytes.Equal(c, b[:BatchHeaderSize]) {
			t.Fatal("setters changed the header")
		}
	})
}
