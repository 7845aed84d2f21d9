package segment

import (
	"bytes"
	"fmt"
	"math"

	"github.com/klauspost/compress/gzip"
)

// Decoder decodes the records of one batch at a time, reusing its buffers from batch
// to batch. The zero value is ready to use. A Decoder is not safe for concurrent use.
//
//	var d segment.Decoder
//	if err := d.Reset(batch); err != nil { ... }
//	var r segment.Record
//	for {
//		ok, err := d.Next(&r)
//		if err != nil { ... }
//		if !ok { break }
//		use(r) // r.Key, r.Value alias the batch or the decoder's buffer
//	}
type Decoder struct {
	// MaxDecompressedBytes bounds the size of a decompressed batch (0 means
	// DefaultMaxDecompressedBytes, 64 MiB). A batch that declares or produces more is
	// an error wrapping errs.ErrCorrupt. The buffer that holds the decompressed
	// records never grows beyond it: a size the codec declares is checked before
	// anything is allocated, and streams are read up to the bound and no further.
	// The decompressors' own state comes on top (a zstd window, itself at most this
	// bound; flate's 32 KiB dictionary).
	MaxDecompressedBytes int

	header    BatchHeader
	records   []byte // the records of the batch: in the batch itself, or in buf
	pos       int    // position of the next record in records
	remaining int32  // records still to decode, by recordCount
	lastDelta int32  // offsetDelta of the previous record; -1 before the first
	err       error  // sticky: the error of the last Reset or Next

	buf     []byte   // decompressed records, reused
	headers []Header // record headers, reused by every Next
	keys    [8]string
	nextKey int // slot of keys to overwrite next

	src   bytes.Reader // the compressed blob, for streaming decompressors
	gzip  *gzip.Reader
	probe [1]byte
}

// Reset starts decoding batch b. b holds one whole batch (bytes beyond the batch's
// Size are ignored); it must stay unchanged until the next Reset, since the records
// of an uncompressed batch alias it.
//
// Reset parses and checks the header as ParseBatchHeader does (with b's length as the
// bound), but does not check the CRC: call VerifyBatch first where that is wanted. A
// compressed batch is decompressed into the decoder's reusable buffer. Errors wrap
// errs.ErrCorrupt, except for an lz4 batch (ErrUnsupportedCompression); after an
// error Next returns it too.
func (d *Decoder) Reset(b []byte) error {
	d.header = BatchHeader{}
	d.records, d.pos, d.remaining, d.lastDelta, d.err = nil, 0, 0, -1, nil
	h, err := ParseBatchHeader(b, math.MaxInt) // no bound but b itself
	if err != nil {
		d.err = err
		return err
	}
	if h.Size() > len(b) {
		d.err = errCorrupt("batch truncated: %d bytes, its header says %d", len(b), h.Size())
		return d.err
	}
	d.header = h
	body := b[BatchHeaderSize:h.Size()]
	switch c := h.Compression(); c {
	case CompressionNone:
		d.records = body
	case CompressionGzip, CompressionSnappy, CompressionZstd:
		limit := d.MaxDecompressedBytes
		if limit <= 0 {
			limit = DefaultMaxDecompressedBytes
		}
		d.buf, err = d.decompress(d.buf, c, body, limit)
		if err != nil {
			d.err = err
			return err
		}
		d.records = d.buf
	case CompressionLZ4:
		d.err = fmt.Errorf("%w: batch at offset %d is compressed with lz4", ErrUnsupportedCompression, h.BaseOffset)
		return d.err
	default:
		d.err = errCorrupt("batch attributes %#04x: unknown compression codec %d", uint16(h.Attributes), int(c))
		return d.err
	}
	d.remaining = h.RecordCount
	return nil
}

// forget drops the decoder's reference to the last batch (for a pooled decoder: so
// that it keeps no caller's memory reachable), keeping its reusable buffers.
func (d *Decoder) forget() {
	d.header, d.records, d.remaining, d.err = BatchHeader{}, nil, 0, nil
	clear(d.headers[:cap(d.headers)])
}

// Header returns the header of the batch given to the last Reset (the zero
// BatchHeader if there was none, or if its header was invalid).
func (d *Decoder) Header() BatchHeader { return d.header }

// Next decodes the next record of the batch into r and returns true, or returns false
// and nil at the end of the batch.
//
// r.Offset is BaseOffset + offsetDelta; r.Timestamp is BaseTimestamp +
// timestampDelta, or MaxTimestamp for a LogAppendTime batch. r.Key and r.Value alias
// the batch or the decoder's buffer and stay valid until the next Reset; r.Headers is
// the decoder's slice, valid until the next call to Next (nil for a record without
// headers). Header keys are interned, so that a batch whose records repeat a few
// header keys does not allocate per record.
//
// Any malformed record is an error wrapping errs.ErrCorrupt: a varint that is too long
// or overflows, a negative or out-of-bounds length, an offset delta that does not
// increase or exceeds lastOffsetDelta, bytes left over inside a record, fewer records
// than recordCount, or bytes after the last of them. The error is sticky.
func (d *Decoder) Next(r *Record) (bool, error) {
	if d.remaining == 0 || d.err != nil {
		return false, d.end()
	}
	// The varints are decoded with uvarintFast, inlined, falling back to uvarintSlow
	// for varints of three bytes or more: this is the hot loop of every read.
	// Positions are absolute in d.records; rec is d.records cut at the record's end.
	buf := d.records
	p := d.pos
	if p >= len(buf) {
		return false, d.fail("batch ends after %d of %d records", d.header.RecordCount-d.remaining, d.header.RecordCount)
	}
	u, q := uvarintFast(buf, p)
	if q < 0 {
		if u, q = uvarintSlow(buf, p, maxVarintLen32); q <= 0 {
			return false, d.fail("bad record length varint")
		}
	}
	length := unzigzag32(uint32(u))
	if length < minRecordSize-1 || int(length) > len(buf)-q {
		return false, d.fail("record length %d with %d bytes left in the batch", length, len(buf)-q)
	}
	end := q + int(length)
	rec := buf[:end]
	p = q + 1 // record attributes: unused by Kafka, ignored

	if u, q = uvarintFast(rec, p); q < 0 {
		if u, q = uvarintSlow(rec, p, maxVarintLen64); q <= 0 {
			return false, d.fail("bad timestampDelta varlong")
		}
	}
	timestampDelta := unzigzag64(u)
	p = q

	if u, q = uvarintFast(rec, p); q < 0 {
		if u, q = uvarintSlow(rec, p, maxVarintLen32); q <= 0 {
			return false, d.fail("bad offsetDelta varint")
		}
	}
	offsetDelta := unzigzag32(uint32(u))
	p = q
	if offsetDelta <= d.lastDelta || offsetDelta > d.header.LastOffsetDelta {
		return false, d.fail("offsetDelta %d after %d (lastOffsetDelta %d)", offsetDelta, d.lastDelta, d.header.LastOffsetDelta)
	}

	if u, q = uvarintFast(rec, p); q < 0 {
		if u, q = uvarintSlow(rec, p, maxVarintLen32); q <= 0 {
			return false, d.fail("bad key length")
		}
	}
	var key []byte
	if keyLength := unzigzag32(uint32(u)); keyLength >= 0 {
		if int(keyLength) > end-q {
			return false, d.fail("bad key length")
		}
		p = q + int(keyLength)
		key = rec[q:p:p]
	} else if keyLength == -1 {
		p = q
	} else {
		return false, d.fail("bad key length")
	}

	if u, q = uvarintFast(rec, p); q < 0 {
		if u, q = uvarintSlow(rec, p, maxVarintLen32); q <= 0 {
			return false, d.fail("bad value length")
		}
	}
	var value []byte
	if valueLength := unzigzag32(uint32(u)); valueLength >= 0 {
		if int(valueLength) > end-q {
			return false, d.fail("bad value length")
		}
		p = q + int(valueLength)
		value = rec[q:p:p]
	} else if valueLength == -1 {
		p = q
	} else {
		return false, d.fail("bad value length")
	}

	if u, q = uvarintFast(rec, p); q < 0 {
		if u, q = uvarintSlow(rec, p, maxVarintLen32); q <= 0 {
			return false, d.fail("bad header count")
		}
	}
	p = q
	var headers []Header
	if headerCount := unzigzag32(uint32(u)); headerCount != 0 {
		var err error
		if headers, p, err = d.readHeaders(rec, p, headerCount); err != nil {
			return false, err
		}
	}
	if p != end {
		return false, d.fail("%d bytes left over at the end of the record", end-p)
	}

	d.pos = end
	d.remaining--
	d.lastDelta = offsetDelta
	r.Offset = d.header.BaseOffset + int64(offsetDelta)
	if d.header.Attributes&attributeLogAppendTime != 0 {
		r.Timestamp = d.header.MaxTimestamp
	} else {
		r.Timestamp = d.header.BaseTimestamp + timestampDelta
	}
	r.Key = key
	r.Value = value
	r.Headers = headers
	return true, nil
}

// end returns the result of Next when no record is left: the sticky error, or a
// corruption error when bytes follow the last record, or nil.
func (d *Decoder) end() error {
	if d.err != nil {
		return d.err
	}
	if extra := len(d.records) - d.pos; extra != 0 {
		return d.fail("%d bytes follow the last of %d records", extra, d.header.RecordCount)
	}
	return nil
}

// readHeaders decodes count headers from rec[p:] into the decoder's header slice and
// returns them with the position after them.
func (d *Decoder) readHeaders(rec []byte, p int, count int32) ([]Header, int, error) {
	if count < 0 {
		return nil, p, d.fail("bad header count")
	}
	headers := d.headers[:0]
	defer func() { d.headers = headers[:0] }()
	for range count {
		keyLength, n := readVarint(rec[p:])
		if n <= 0 || keyLength < 0 || int(keyLength) > len(rec)-p-n {
			return nil, p, d.fail("bad header key length")
		}
		p += n
		key := d.internKey(rec[p : p+int(keyLength)])
		p += int(keyLength)
		value, next, ok := readNullableBytes(rec, p)
		if !ok {
			return nil, p, d.fail("bad header value length")
		}
		p = next
		headers = append(headers, Header{Key: key, Value: value})
	}
	return headers, p, nil
}

// readNullableBytes reads a length varint (-1 = null) and that many bytes from
// record[p:]. The returned slice is capped, so that appending to it cannot overwrite
// what follows.
func readNullableBytes(record []byte, p int) (field []byte, next int, ok bool) {
	length, n := readVarint(record[p:])
	if n <= 0 {
		return nil, p, false
	}
	p += n
	if length < 0 {
		return nil, p, length == -1
	}
	if int(length) > len(record)-p {
		return nil, p, false
	}
	end := p + int(length)
	return record[p:end:end], end, true
}

// internKey returns b as a string, reusing the string of a recent identical key.
func (d *Decoder) internKey(b []byte) string {
	for i := range d.keys {
		if d.keys[i] == string(b) {
			return d.keys[i]
		}
	}
	s := string(b)
	d.keys[d.nextKey] = s
	d.nextKey = (d.nextKey + 1) % len(d.keys)
	return s
}

// fail records a corruption error for the current record and returns it.
func (d *Decoder) fail(format string, args ...any) error {
	index := d.header.RecordCount - d.remaining
	d.err = errCorrupt("batch at offset %d, record %d: %s", d.header.BaseOffset, index, fmt.Sprintf(format, args...))
	return d.err
}
