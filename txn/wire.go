package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// errShort and errInvalid are the causes a decoder reports; the decoding functions
// wrap them with what they were decoding.
var (
	errShort   = errors.New("truncated")
	errInvalid = errors.New("invalid length")
)

// writer appends Kafka's primitive types, big-endian, to a byte slice, in both
// encodings of Kafka's generated messages: the classic one (int16 string lengths,
// int32 array counts) and the flexible one (unsigned varint lengths plus one, and
// tagged fields). Strings longer than their length field are a bug of the caller
// (input is validated against MaxTransactionalIDBytes before it gets here).
type writer struct{ buf []byte }

func (w *writer) int8(v int8)   { w.buf = append(w.buf, byte(v)) }
func (w *writer) int16(v int16) { w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(v)) }
func (w *writer) int32(v int32) { w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(v)) }
func (w *writer) int64(v int64) { w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v)) }

// uvarint writes an unsigned varint (Kafka's UNSIGNED_VARINT, as protobuf's).
func (w *writer) uvarint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

// string writes an int16 length and the bytes.
func (w *writer) string(s string) {
	if len(s) > math.MaxInt16 {
		panic(fmt.Sprintf("strata/txn: bug: string of %d bytes encoded", len(s)))
	}
	w.int16(int16(len(s)))
	w.buf = append(w.buf, s...)
}

// compactString writes a flexible version's string: length plus one, then bytes.
func (w *writer) compactString(s string) {
	w.uvarint(uint64(len(s)) + 1)
	w.buf = append(w.buf, s...)
}

// reader decodes Kafka's primitive types from a byte slice. The first error sticks:
// later reads return zero values, and err says what went wrong. No read allocates
// more than the bytes left, whatever a length field claims.
type reader struct {
	buf []byte
	off int
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%w at byte %d", err, r.off)
	}
}

func (r *reader) remaining() int { return len(r.buf) - r.off }

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.remaining() {
		r.fail(errShort)
		return nil
	}
	b := r.buf[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) int8() int8 {
	if b := r.take(1); b != nil {
		return int8(b[0])
	}
	return 0
}

func (r *reader) int16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *reader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) int64() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// uvarint reads an unsigned varint of at most 5 bytes' worth of value (Kafka's
// lengths and tags are 32-bit).
func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf[r.off:])
	if n <= 0 || v > math.MaxUint32 {
		r.fail(errInvalid)
		return 0
	}
	r.off += n
	return v
}

// string reads a non-null classic string (int16 length).
func (r *reader) string() string {
	n := r.int16()
	if r.err != nil {
		return ""
	}
	if n < 0 {
		r.fail(errInvalid)
		return ""
	}
	return string(r.take(int(n)))
}

// compactString reads a non-null flexible string (uvarint length plus one).
func (r *reader) compactString() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n == 0 {
		r.fail(errInvalid)
		return ""
	}
	return string(r.take(int(n - 1)))
}

// arrayLength reads a classic array count (int32, -1 for null) and checks that
// the bytes left could hold that many elements of at least minElementBytes each,
// so that a corrupt count never makes the caller allocate more than the input's
// size. null reports a null array.
func (r *reader) arrayLength(minElementBytes int) (n int, null bool) {
	v := r.int32()
	if r.err != nil {
		return 0, false
	}
	if v == -1 {
		return 0, true
	}
	return r.checkCount(int64(v), minElementBytes), false
}

// compactArrayLength reads a flexible array count (uvarint count plus one, 0 for
// null), with arrayLength's bound.
func (r *reader) compactArrayLength(minElementBytes int) (n int, null bool) {
	v := r.uvarint()
	if r.err != nil {
		return 0, false
	}
	if v == 0 {
		return 0, true
	}
	return r.checkCount(int64(v)-1, minElementBytes), false
}

func (r *reader) checkCount(n int64, minElementBytes int) int {
	if n < 0 || n*int64(minElementBytes) > int64(r.remaining()) {
		r.fail(errInvalid)
		return 0
	}
	return int(n)
}

// taggedFields reads a flexible version's tagged fields: a count, then per field
// its tag, its size and its bytes, tags strictly increasing. field is called with
// each field's bytes; unknown tags are skipped, as Kafka's readers do.
func (r *reader) taggedFields(field func(tag uint64, data []byte)) {
	count := r.uvarint()
	if r.err == nil && count > uint64(r.remaining()) {
		r.fail(errInvalid) // every field takes at least two bytes
		return
	}
	last := int64(-1)
	for range count {
		tag := r.uvarint()
		size := r.uvarint()
		data := r.take(int(size))
		if r.err != nil {
			return
		}
		if int64(tag) <= last {
			r.fail(fmt.Errorf("%w: tag %d after tag %d", errInvalid, tag, last))
			return
		}
		last = int64(tag)
		field(tag, data)
	}
}

// int64Field writes a tagged field holding an int64: its tag, its size, its value.
func (w *writer) int64Field(tag uint64, v int64) {
	w.uvarint(tag)
	w.uvarint(8)
	w.int64(v)
}
