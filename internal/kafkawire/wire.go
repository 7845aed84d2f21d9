// Package kafkawire encodes and decodes Kafka's primitive types, as the records
// of its internal topics (__consumer_offsets, __transaction_state) and its
// consumer protocol use them: big-endian integers, the classic encoding (int16
// string lengths, int32 array counts, -1 for null) and the flexible one
// (unsigned varint lengths and counts plus one, 0 for null, and tagged fields).
// The group and txn packages share it; users never import it.
package kafkawire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShort and ErrInvalid are the causes a Reader reports; the decoding
// functions wrap them with what they were decoding.
var (
	ErrShort   = errors.New("truncated")
	ErrInvalid = errors.New("invalid length")
)

// Writer appends Kafka's primitive types to Buf. Strings and arrays longer than
// their length field are a bug of the caller (input is validated against its
// limits before it gets here): Writer panics on them.
type Writer struct{ Buf []byte }

// Int8 writes v.
func (w *Writer) Int8(v int8) { w.Buf = append(w.Buf, byte(v)) }

// Int16 writes v, big-endian.
func (w *Writer) Int16(v int16) { w.Buf = binary.BigEndian.AppendUint16(w.Buf, uint16(v)) }

// Int32 writes v, big-endian.
func (w *Writer) Int32(v int32) { w.Buf = binary.BigEndian.AppendUint32(w.Buf, uint32(v)) }

// Int64 writes v, big-endian.
func (w *Writer) Int64(v int64) { w.Buf = binary.BigEndian.AppendUint64(w.Buf, uint64(v)) }

// Uvarint writes an unsigned varint (Kafka's UNSIGNED_VARINT, as protobuf's).
func (w *Writer) Uvarint(v uint64) { w.Buf = binary.AppendUvarint(w.Buf, v) }

// String writes an int16 length and the bytes.
func (w *Writer) String(s string) {
	if len(s) > math.MaxInt16 {
		panic(fmt.Sprintf("strata: bug: string of %d bytes encoded", len(s)))
	}
	w.Int16(int16(len(s)))
	w.Buf = append(w.Buf, s...)
}

// NullableString writes s, or null (length -1) if null.
func (w *Writer) NullableString(s string, null bool) {
	if null {
		w.Int16(-1)
		return
	}
	w.String(s)
}

// CompactString writes a flexible version's string: length plus one, then bytes.
func (w *Writer) CompactString(s string) {
	w.Uvarint(uint64(len(s)) + 1)
	w.Buf = append(w.Buf, s...)
}

// Bytes writes an int32 length and b; a nil b is null (length -1).
func (w *Writer) Bytes(b []byte) {
	if b == nil {
		w.Int32(-1)
		return
	}
	w.ArrayLength(len(b))
	w.Buf = append(w.Buf, b...)
}

// ArrayLength writes a classic array's element count (int32).
func (w *Writer) ArrayLength(n int) {
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("strata: bug: array of %d elements encoded", n))
	}
	w.Int32(int32(n))
}

// Int64Field writes a tagged field holding an int64: its tag, its size, its
// value.
func (w *Writer) Int64Field(tag uint64, v int64) {
	w.Uvarint(tag)
	w.Uvarint(8)
	w.Int64(v)
}

// Reader decodes Kafka's primitive types from a byte slice. The first error
// sticks: later reads return zero values, and Err says what went wrong. No read
// allocates more than the bytes left, whatever a length field claims.
type Reader struct {
	buf []byte
	off int
	err error
}

// NewReader returns a Reader of b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Err returns the first error, with the byte position it happened at.
func (r *Reader) Err() error { return r.err }

// Fail records err (wrapped with the position) unless an error is recorded.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%w at byte %d", err, r.off)
	}
}

// Remaining returns how many bytes are left.
func (r *Reader) Remaining() int { return len(r.buf) - r.off }

// Take returns the next n bytes (a view, not a copy), or nil with ErrShort.
func (r *Reader) Take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.Remaining() {
		r.Fail(ErrShort)
		return nil
	}
	b := r.buf[r.off : r.off+n]
	r.off += n
	return b
}

// Int8 reads an int8.
func (r *Reader) Int8() int8 {
	if b := r.Take(1); b != nil {
		return int8(b[0])
	}
	return 0
}

// Int16 reads a big-endian int16.
func (r *Reader) Int16() int16 {
	if b := r.Take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

// Int32 reads a big-endian int32.
func (r *Reader) Int32() int32 {
	if b := r.Take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

// Int64 reads a big-endian int64.
func (r *Reader) Int64() int64 {
	if b := r.Take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// Uvarint reads an unsigned varint of at most 32 bits' worth of value (Kafka's
// lengths and tags are 32-bit).
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf[r.off:])
	if n <= 0 || v > math.MaxUint32 {
		r.Fail(ErrInvalid)
		return 0
	}
	r.off += n
	return v
}

// String reads a non-null classic string (int16 length).
func (r *Reader) String() string {
	n := r.Int16()
	if r.err != nil {
		return ""
	}
	if n < 0 {
		r.Fail(ErrInvalid)
		return ""
	}
	return string(r.Take(int(n)))
}

// NullableString reads a classic string that may be null (length -1).
func (r *Reader) NullableString() (s string, null bool) {
	n := r.Int16()
	if r.err != nil {
		return "", false
	}
	if n == -1 {
		return "", true
	}
	if n < 0 {
		r.Fail(ErrInvalid)
		return "", false
	}
	return string(r.Take(int(n))), false
}

// CompactString reads a non-null flexible string (uvarint length plus one).
func (r *Reader) CompactString() string {
	n := r.Uvarint()
	if r.err != nil {
		return ""
	}
	if n == 0 {
		r.Fail(ErrInvalid)
		return ""
	}
	return string(r.Take(int(n - 1)))
}

// Bytes reads an int32 length and that many bytes, copied; null (-1) is nil.
func (r *Reader) Bytes() []byte {
	n := r.Int32()
	if r.err != nil || n == -1 {
		return nil
	}
	if n < 0 {
		r.Fail(ErrInvalid)
		return nil
	}
	b := r.Take(int(n))
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// ArrayLength reads a classic array count (int32, -1 for null) and checks that
// the bytes left could hold that many elements of at least minElementBytes each,
// so that a corrupt count never makes the caller allocate more than the input's
// size. null reports a null array (n 0).
func (r *Reader) ArrayLength(minElementBytes int) (n int, null bool) {
	v := r.Int32()
	if r.err != nil {
		return 0, false
	}
	if v == -1 {
		return 0, true
	}
	return r.checkCount(int64(v), minElementBytes), false
}

// CompactArrayLength reads a flexible array count (uvarint count plus one, 0 for
// null), with ArrayLength's bound.
func (r *Reader) CompactArrayLength(minElementBytes int) (n int, null bool) {
	v := r.Uvarint()
	if r.err != nil {
		return 0, false
	}
	if v == 0 {
		return 0, true
	}
	return r.checkCount(int64(v)-1, minElementBytes), false
}

func (r *Reader) checkCount(n int64, minElementBytes int) int {
	if n < 0 || n*int64(minElementBytes) > int64(r.Remaining()) {
		r.Fail(ErrInvalid)
		return 0
	}
	return int(n)
}

// TaggedFields reads a flexible version's tagged fields: a count, then per field
// its tag, its size and its bytes, tags strictly increasing. field is called with
// each field's bytes; unknown tags are the caller's to skip, as Kafka's readers
// do.
func (r *Reader) TaggedFields(field func(tag uint64, data []byte)) {
	count := r.Uvarint()
	if r.err == nil && count > uint64(r.Remaining()) {
		r.Fail(ErrInvalid) // every field takes at least two bytes
		return
	}
	last := int64(-1)
	for range count {
		tag := r.Uvarint()
		size := r.Uvarint()
		data := r.Take(int(size))
		if r.err != nil {
			return
		}
		if int64(tag) <= last {
			r.Fail(fmt.Errorf("%w: tag %d after tag %d", ErrInvalid, tag, last))
			return
		}
		last = int64(tag)
		field(tag, data)
	}
}
