package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"

	"github.com/stratalog/strata/internal/errs"
)

// codecRecordsBlob returns the uncompressed records of a batch of records.
func codecRecordsBlob(t testing.TB, records []Record) []byte {
	t.Helper()
	b, err := AppendBatch(nil, records, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b[BatchHeaderSize:]
}

// codecCompressedBatch wraps a compressed records blob of count records in a batch
// (with made-up timestamps).
func codecCompressedBatch(c Compression, blob []byte, count int) []byte {
	return codecRawBatch(int16(c), int32(count), max(int32(count)-1, 0), blob)
}

// codecWithBlob returns the batch of records, compressed by another writer: the
// header AppendBatch writes, with codec c and blob as its records.
func codecWithBlob(t testing.TB, records []Record, c Compression, blob []byte) []byte {
	t.Helper()
	b, err := AppendBatch(nil, records, nil)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b[:BatchHeaderSize], blob...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-BatchOverhead))
	binary.BigEndian.PutUint16(b[21:], uint16(c))
	binary.BigEndian.PutUint32(b[17:], codecCRC32C(b[21:]))
	return b
}

func TestCompressionNames(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionZstd} {
		text, err := c.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var parsed Compression
		if err := parsed.UnmarshalText(text); err != nil || parsed != c {
			t.Fatalf("%v: round trip gave %v, %v", c, parsed, err)
		}
	}
	for _, tt := range []struct {
		name string
		want Compression
		err  error
	}{
		{"", CompressionNone, nil},
		{"uncompressed", CompressionNone, nil},
		{"ZSTD", CompressionZstd, nil},
		{" snappy ", CompressionSnappy, nil},
		{"lz4", CompressionNone, ErrUnsupportedCompression},
		{"brotli", CompressionNone, errs.ErrInvalidArgument},
	} {
		got, err := ParseCompression(tt.name)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("ParseCompression(%q) = %v, %v", tt.name, got, err)
		}
	}
	if got := CompressionLZ4.String(); got != "lz4" {
		t.Errorf("String() = %q", got)
	}
	if got := Compression(9).String(); got != "Compression(9)" {
		t.Errorf("String() = %q", got)
	}
	if _, err := Compression(9).MarshalText(); !errors.Is(err, errs.ErrInvalidArgument) {
		t.Errorf("MarshalText(9): %v", err)
	}
}

// TestSnappyXerialFraming decodes batches compressed the way Java's snappy-java
// writes them: xerial's framing around raw snappy chunks.
func TestSnappyXerialFraming(t *testing.T) {
	records := codecMixedRecords(200, 7)
	blob := codecRecordsBlob(t, records)
	want := codecWithOffsets(codecMixedRecords(200, 7))

	// By klauspost's xerial encoder (32 KiB chunks).
	framed := xerial.Encode(nil, blob)
	if !bytes.HasPrefix(framed, []byte("\x82SNAPPY\x00")) {
		t.Fatalf("not xerial: %x", framed[:16])
	}
	codecCompareRecords(t, codecDecodeAll(t, codecWithBlob(t, records, CompressionSnappy, framed), 0), want)

	// By hand: magic, version 1, compatible version 1, then chunks of
	// (int32 length, raw snappy block), here of uneven sizes.
	manual := []byte("\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01")
	for rest := blob; len(rest) > 0; {
		n := min(len(rest), 10_000)
		chunk := s2.EncodeSnappy(nil, rest[:n])
		manual = binary.BigEndian.AppendUint32(manual, uint32(len(chunk)))
		manual = append(manual, chunk...)
		rest = rest[n:]
	}
	codecCompareRecords(t, codecDecodeAll(t, codecWithBlob(t, records, CompressionSnappy, manual), 0), want)

	// A framing header with no chunk holds no bytes.
	empty := codecCompressedBatch(CompressionSnappy, manual[:16], 0)
	if got := codecDecodeAll(t, empty, 0); len(got) != 0 {
		t.Fatalf("%d records", len(got))
	}

	// Broken framing is corrupt.
	for name, bad := range map[string][]byte{
		"truncated header":      manual[:12],
		"chunk length overruns": append(bytes.Clone(manual[:16]), 0, 0, 1, 0, 1, 2, 3),
		"partial chunk length":  append(bytes.Clone(manual[:16]), 0, 0),
		"garbage chunk":         append(bytes.Clone(manual[:16]), 0, 0, 0, 3, 0xff, 0xff, 0xff),
	} {
		var d Decoder
		if err := d.Reset(codecCompressedBatch(CompressionSnappy, bad, 1)); !errors.Is(err, errs.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// TestDecompressOtherWriters decodes blobs that other writers produce: several
// gzip members, a zstd frame without content size (a streaming writer's, such as
// Java's zstd-jni).
func TestDecompressOtherWriters(t *testing.T) {
	records := codecTestRecords(3000, 3)
	blob := codecRecordsBlob(t, records)
	want := codecWithOffsets(codecTestRecords(3000, 3))

	var members bytes.Buffer
	for _, part := range [][]byte{blob[:1000], blob[1000:]} {
		w := gzip.NewWriter(&members)
		w.Write(part)
		w.Close()
	}
	codecCompareRecords(t, codecDecodeAll(t, codecWithBlob(t, records, CompressionGzip, members.Bytes()), 0), want)

	var stream bytes.Buffer
	w, err := zstd.NewWriter(&stream, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	for rest := blob; len(rest) > 0; rest = rest[min(len(rest), 7000):] {
		w.Write(rest[:min(len(rest), 7000)])
	}
	w.Close()
	var frame zstd.Header
	if err := frame.Decode(stream.Bytes()); err != nil {
		t.Fatal(err)
	}
	if frame.HasFCS {
		t.Log("the streaming zstd writer wrote a content size; the test covers less")
	}
	codecCompareRecords(t, codecDecodeAll(t, codecWithBlob(t, records, CompressionZstd, stream.Bytes()), 0), want)
}

func TestDecompressLimit(t *testing.T) {
	records := codecTestRecords(1000, 1)
	size := len(codecRecordsBlob(t, records))
	for _, c := range []Compression{CompressionGzip, CompressionSnappy, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) {
			b, err := AppendBatch(nil, records, &BatchOptions{Compression: c})
			if err != nil {
				t.Fatal(err)
			}
			exact := Decoder{MaxDecompressedBytes: size}
			if err := exact.Reset(b); err != nil {
				t.Fatalf("limit = decompressed size: %v", err)
			}
			small := Decoder{MaxDecompressedBytes: size - 1}
			err = small.Reset(b)
			if !errors.Is(err, errs.ErrCorrupt) || !strings.Contains(err.Error(), "more than") {
				t.Fatalf("limit below the size: %v", err)
			}
			if cap(small.buf) > size-1 {
				t.Fatalf("buffer of %d bytes for a limit of %d", cap(small.buf), size-1)
			}
		})
	}
}

// TestDecompressionBombs feeds blobs that claim or produce far more than the limit.
func TestDecompressionBombs(t *testing.T) {
	const limit = 1 << 20
	zeros := make([]byte, 64<<20)

	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(zeros)
	w.Close()

	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(256<<10))
	zw.Write(zeros)
	zw.Close()
	var zsWide bytes.Buffer // a window of 8 MiB, above the limit
	zw, _ = zstd.NewWriter(&zsWide, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(8<<20))
	zw.Write(zeros)
	zw.Close()
	zstdAll, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	zstdWithSize := zstdAll.EncodeAll(zeros, nil)

	// A raw snappy block whose header claims 1 GiB.
	snappyClaim := binary.AppendUvarint(nil, 1<<30)
	snappyClaim = append(snappyClaim, 0x00, 'x')
	// xerial chunks whose total exceeds the limit, each under it.
	xerialClaim := []byte("\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01")
	for range 3 {
		chunk := binary.AppendUvarint(nil, 600<<10)
		xerialClaim = binary.BigEndian.AppendUint32(xerialClaim, uint32(len(chunk)))
		xerialClaim = append(xerialClaim, chunk...)
	}
	zeros = nil

	for _, tt := range []struct {
		name  string
		codec Compression
		blob  []byte
	}{
		{"gzip of 64 MiB of zeros", CompressionGzip, gz.Bytes()},
		{"zstd stream of 64 MiB of zeros", CompressionZstd, zs.Bytes()},
		{"zstd stream with an 8 MiB window", CompressionZstd, zsWide.Bytes()},
		{"zstd frame declaring 64 MiB", CompressionZstd, zstdWithSize},
		{"snappy block declaring 1 GiB", CompressionSnappy, snappyClaim},
		{"xerial chunks declaring 1.8 MiB", CompressionSnappy, xerialClaim},
	} {
		t.Run(tt.name, func(t *testing.T) {
			batch := codecCompressedBatch(tt.codec, tt.blob, 1)
			d := Decoder{MaxDecompressedBytes: limit}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := d.Reset(batch)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, errs.ErrCorrupt) {
				t.Fatalf("Reset: %v, want ErrCorrupt", err)
			}
			if cap(d.buf) > limit {
				t.Fatalf("buffer of %d bytes, limit %d", cap(d.buf), limit)
			}
			// The decoder's own state (zstd window, flate dictionary) comes on top of
			// the output buffer; all of it stays within a few times the limit.
			t.Logf("allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4*limit {
				t.Fatalf("allocated %d bytes for a limit of %d", allocated, limit)
			}
		})
	}
}

func TestDecompressGarbage(t *testing.T) {
	garbage := [][]byte{
		nil,
		{0},
		[]byte("not compressed at all, just some text that no codec accepts"),
		{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3},       // a gzip header, then junk
		{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x01, 0x00, 0x00}, // a zstd magic, then junk
	}
	for _, c := range []Compression{CompressionGzip, CompressionSnappy, CompressionZstd} {
		for _, blob := range garbage {
			var d Decoder
			if err := d.Reset(codecCompressedBatch(c, blob, 1)); err == nil {
				ok, err := d.Next(&Record{})
				if ok || !errors.Is(err, errs.ErrCorrupt) {
					t.Errorf("%v %x: Next = %v, %v", c, blob, ok, err)
				}
			} else if !errors.Is(err, errs.ErrCorrupt) {
				t.Errorf("%v %x: %v, want ErrCorrupt", c, blob, err)
			}
		}
	}
	// A valid zstd batch with a corrupted byte in the middle of its blob.
	b, _ := AppendBatch(nil, codecTestRecords(500, 1), &BatchOptions{Compression: CompressionZstd})
	b[len(b)/2] ^= 0xff
	var d Decoder
	if err := d.Reset(b); err == nil {
		for {
			ok, err := d.Next(&Record{})
			if err != nil {
				if !errors.Is(err, errs.ErrCorrupt) {
					t.Fatal(err)
				}
				break
			}
			if !ok {
				t.Log("the flipped byte decoded to valid records (the CRC catches it)")
				break
			}
		}
	} else if !errors.Is(err, errs.ErrCorrupt) {
		t.Fatal(err)
	}
}
