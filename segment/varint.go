package segment

import "math/bits"

// Format: records use zig-zag varints, as protobuf and Kafka do. A signed value v is
// mapped to the unsigned (v << 1) ^ (v >> 63), so that small magnitudes of either sign
// take few bytes (0→0, -1→1, 1→2, -2→3, ...), then written 7 bits per byte, least
// significant group first, with the high bit of each byte set on all but the last.
//
// A varint (int32) takes at most 5 bytes and a varlong (int64) at most 10, as in
// Kafka's ByteUtils; a longer encoding, or one whose value does not fit its type, is
// rejected. Encodings with redundant continuation bytes (0x80 0x00 for 0) are accepted
// on read, never written.

// zigzag32 maps a signed int32 to its zig-zag unsigned form.
func zigzag32(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

// zigzag64 maps a signed int64 to its zig-zag unsigned form.
func zigzag64(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// unzigzag32 is the inverse of zigzag32.
func unzigzag32(u uint32) int32 { return int32(u>>1) ^ -int32(u&1) }

// unzigzag64 is the inverse of zigzag64.
func unzigzag64(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// uvarintLen returns the number of bytes of the varint encoding of u.
func uvarintLen(u uint64) int {
	// bits.Len64(u|1) is the number of significant bits (at least 1); every 7 bits
	// take a byte. (x*9+64)/64 is x/7 rounded up for 1 <= x <= 64.
	return (bits.Len64(u|1)*9 + 64) / 64
}

// varintLen returns the number of bytes of the zig-zag varint encoding of v.
func varintLen(v int32) int { return uvarintLen(uint64(zigzag32(v))) }

// varlongLen returns the number of bytes of the zig-zag varlong encoding of v.
func varlongLen(v int64) int { return uvarintLen(zigzag64(v)) }

// putUvarint writes u at the start of b, which must be long enough, and returns the
// number of bytes written.
func putUvarint(b []byte, u uint64) int {
	if n := putUvarintFast(b, u); n != 0 {
		return n
	}
	return putUvarintSlow(b, u)
}

// putUvarintFast writes u at the start of b when it takes one or two bytes and
// returns the number of bytes written, or writes nothing and returns 0 when u needs
// more. It is small enough to be inlined.
func putUvarintFast(b []byte, u uint64) int {
	if u < 1<<7 {
		b[0] = byte(u)
		return 1
	}
	if u < 1<<14 {
		_ = b[1]
		b[0] = byte(u) | 0x80
		b[1] = byte(u >> 7)
		return 2
	}
	return 0
}

// putUvarintSlow writes u of any size at the start of b and returns its length.
// Kept out of line so that its callers' fast paths inline.
//
//go:noinline
func putUvarintSlow(b []byte, u uint64) int {
	i := 0
	for u >= 0x80 {
		b[i] = byte(u) | 0x80
		u >>= 7
		i++
	}
	b[i] = byte(u)
	return i + 1
}

// putVarint writes the zig-zag varint of v at the start of b and returns its length.
func putVarint(b []byte, v int32) int { return putUvarint(b, uint64(zigzag32(v))) }

// putVarlong writes the zig-zag varlong of v at the start of b and returns its length.
func putVarlong(b []byte, v int64) int { return putUvarint(b, zigzag64(v)) }

// appendVarint appends the zig-zag varint of v to dst.
func appendVarint(dst []byte, v int32) []byte {
	var buf [maxVarintLen32]byte
	n := putVarint(buf[:], v)
	return append(dst, buf[:n]...)
}

// appendVarlong appends the zig-zag varlong of v to dst.
func appendVarlong(dst []byte, v int64) []byte {
	var buf [maxVarintLen64]byte
	n := putVarlong(buf[:], v)
	return append(dst, buf[:n]...)
}

// uvarintFast decodes the unsigned varint at b[p:] when it takes one or two bytes,
// the common case in records, and returns the value and the position after it. It
// returns next < 0 when the varint is longer or b ends first: the caller then calls
// uvarintSlow. It is small enough to be inlined, which a function that calls the
// slow path itself is not.
func uvarintFast(b []byte, p int) (u uint64, next int) {
	if p+1 < len(b) {
		c0, c1 := b[p], b[p+1]
		if c0 < 0x80 {
			return uint64(c0), p + 1
		}
		if c1 < 0x80 {
			return uint64(c0&0x7f) | uint64(c1)<<7, p + 2
		}
	} else if p < len(b) && b[p] < 0x80 {
		return uint64(b[p]), p + 1
	}
	return 0, -1
}

// uvarintSlow decodes the unsigned varint at b[p:] of at most maxLen bytes
// (maxVarintLen32 or maxVarintLen64) whose value fits in 32 or 64 bits accordingly.
// It returns the value and the position after it; next == 0 means b ended inside the
// varint, next < 0 that it is too long or overflows.
func uvarintSlow(b []byte, p int, maxLen int) (u uint64, next int) {
	// The last byte allowed holds the top bits: 4 of a uint32 (bits 28-31), 1 of a
	// uint64 (bit 63). More, or a continuation bit, is an error.
	lastMax := byte(0x0f)
	if maxLen == maxVarintLen64 {
		lastMax = 0x01
	}
	for i := 0; i < maxLen; i++ {
		if p+i >= len(b) {
			return 0, 0
		}
		c := b[p+i]
		if i == maxLen-1 && c > lastMax {
			return 0, -1
		}
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return u, p + i + 1
		}
	}
	return 0, -1 // unreachable: the last byte allowed ends the varint
}

// readVarint decodes a zig-zag varint (int32) from the start of b. It returns the
// value and the number of bytes read; n == 0 means b ended inside the varint, n < 0
// that the encoding is longer than 5 bytes or its value overflows 32 bits.
func readVarint(b []byte) (v int32, n int) {
	u, next := uvarintFast(b, 0)
	if next < 0 {
		if u, next = uvarintSlow(b, 0, maxVarintLen32); next <= 0 {
			return 0, next
		}
	}
	return unzigzag32(uint32(u)), next
}

// readVarlong decodes a zig-zag varlong (int64) from the start of b, with the same
// results as readVarint but a limit of 10 bytes and 64 bits.
func readVarlong(b []byte) (v int64, n int) {
	u, next := uvarintFast(b, 0)
	if next < 0 {
		if u, next = uvarintSlow(b, 0, maxVarintLen64); next <= 0 {
			return 0, next
		}
	}
	return unzigzag64(u), next
}
