package group

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

// writer appends Kafka's primitive types, big-endian, to a byte slice. Strings and
// arrays longer than their length field are a bug of the caller (input is validated
// against MaxNameBytes before it gets here): writer panics on them.
type writer struct{ buf []byte }

func (w *writer) int16(v int16) { w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(v)) }
func (w *writer) int32(v int32) { w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(v)) }
func (w *writer) int64(v int64) { w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v)) }

// string writes an int16 length and the bytes.
func (w *writer) string(s string) {
	if len(s) > math.MaxInt16 {
		panic(fmt.Sprintf("strata/group: bug: string of %d bytes encoded", len(s)))
	}
	w.int16(int16(len(s)))
	w.buf = append(w.buf, s...)
}

// nullableString writes s, or length -1 if null.
func (w *writer) nullableString(s string, null bool) {
	if null {
		w.int16(-1)
		return
	}
	w.string(s)
}

// bytes writes an int32 length and b; a nil b is null (length -1).
func (w *writer) bytes(b []byte) {
	if b == nil {
		w.int32(-1)
		return
	}
	w.arrayLength(len(b))
	w.buf = append(w.buf, b...)
}

// arrayLength writes an array's element count.
func (w *writer) arrayLength(n int) {
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("strata/group: bug: array of %d elements encoded", n))
	}
	w.int32(int32(n))
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

// string reads a non-null string.
func (r *reader) string() string {
	s, null := r.nullableString()
	if null {
		r.fail(errInvalid)
	}
	return s
}

// nullableString reads a string that may be null (length -1).
func (r *reader) nullableString() (s string, null bool) {
	n := r.int16()
	if r.err != nil {
		return "", false
	}
	if n == -1 {
		return "", true
	}
	if n < 0 {
		r.fail(errInvalid)
		return "", false
	}
	return string(r.take(int(n))), false
}

// bytes reads nullable bytes (nil for null) as a copy.
func (r *reader) bytes() []byte {
	n := r.int32()
	if r.err != nil || n == -1 {
		return nil
	}
	if n < 0 {
		r.fail(errInvalid)
		return nil
	}
	b := r.take(int(n))
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// arrayLength reads an array's element count and checks that the bytes left could
// hold that many elements of at least minElementBytes each, so that a corrupt count
// never makes the caller allocate more than the input's size. A null array (-1)
// reads as empty.
func (r *reader) arrayLength(minElementBytes int) int {
	n := r.int32()
	if r.err != nil || n == -1 {
		return 0
	}
	if n < 0 || int64(n)*int64(minElementBytes) > int64(r.remaining()) {
		r.fail(errInvalid)
		return 0
	}
	return int(n)
}
