package segment

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"testing"
)

func TestVarint(t *testing.T) {
	tests := []struct {
		value int32
		hex   string
	}{
		{0, "00"},
		{-1, "01"},
		{1, "02"},
		{-2, "03"},
		{63, "7e"},
		{-64, "7f"},
		{64, "8001"},
		{-65, "8101"},
		{300, "d804"},
		{8191, "fe7f"},
		{-8192, "ff7f"},
		{8192, "808001"},
		{1 << 20, "80808001"},
		{math.MaxInt32, "feffffff0f"},
		{math.MinInt32, "ffffffff0f"},
	}
	for _, tt := range tests {
		want, _ := hex.DecodeString(tt.hex)
		buf := make([]byte, maxVarintLen32)
		n := putVarint(buf, tt.value)
		if got := buf[:n]; string(got) != string(want) {
			t.Errorf("putVarint(%d) = %x, want %s", tt.value, got, tt.hex)
		}
		if got := appendVarint([]byte{0xaa}, tt.value); string(got[1:]) != string(want) {
			t.Errorf("appendVarint(%d) = %x, want %s", tt.value, got[1:], tt.hex)
		}
		if n := varintLen(tt.value); n != len(want) {
			t.Errorf("varintLen(%d) = %d, want %d", tt.value, n, len(want))
		}
		// Decoding, alone and followed by other bytes.
		for _, in := range [][]byte{want, append(append([]byte{}, want...), 0x01, 0xff)} {
			v, n := readVarint(in)
			if v != tt.value || n != len(want) {
				t.Errorf("readVarint(%x) = %d, %d; want %d, %d", in, v, n, tt.value, len(want))
			}
		}
		// Truncated: every proper prefix is "b ended inside the varint".
		for i := range len(want) {
			if _, n := readVarint(want[:i]); n != 0 {
				t.Errorf("readVarint(%x) n = %d, want 0", want[:i], n)
			}
		}
	}
}

func TestVarlong(t *testing.T) {
	tests := []struct {
		value int64
		hex   string
	}{
		{0, "00"},
		{-1, "01"},
		{1, "02"},
		{10, "14"},
		{-3, "05"},
		{1700000000000, "80a0abfef962"},
		{math.MaxInt32 + 1, "8080808010"},
		{math.MaxInt64, "feffffffffffffffff01"},
		{math.MinInt64, "ffffffffffffffffff01"},
	}
	for _, tt := range tests {
		want, _ := hex.DecodeString(tt.hex)
		// Cross-check the table against encoding/binary's zig-zag varint, which is the
		// same encoding.
		if ref := binary.AppendVarint(nil, tt.value); string(ref) != string(want) {
			t.Fatalf("table entry %d: %s, but encoding/binary writes %x", tt.value, tt.hex, ref)
		}
		buf := make([]byte, maxVarintLen64)
		n := putVarlong(buf, tt.value)
		if got := buf[:n]; string(got) != string(want) {
			t.Errorf("putVarlong(%d) = %x, want %s", tt.value, got, tt.hex)
		}
		if got := appendVarlong(nil, tt.value); string(got) != string(want) {
			t.Errorf("appendVarlong(%d) = %x", tt.value, got)
		}
		if n := varlongLen(tt.value); n != len(want) {
			t.Errorf("varlongLen(%d) = %d, want %d", tt.value, n, len(want))
		}
		if v, n := readVarlong(want); v != tt.value || n != len(want) {
			t.Errorf("readVarlong(%x) = %d, %d", want, v, n)
		}
	}
}

func TestVarintInvalid(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		long bool // a varlong rather than a varint
		n    int  // 0: truncated, -1: too long or overflow
	}{
		{"empty varint", "", false, 0},
		{"empty varlong", "", true, 0},
		{"continuation at the end", "80", false, 0},
		{"four continuation bytes", "ffffffff", false, 0},
		{"six bytes", "808080808000", false, -1},
		{"fifth byte continues", "ffffffff80", false, -1},
		{"fifth byte overflows 32 bits", "ffffffff1f", false, -1},
		{"fifth byte 0x10", "8080808010", false, -1},
		{"varlong of 11 bytes", "8080808080808080808000", true, -1},
		{"tenth byte continues", "ffffffffffffffffff81", true, -1},
		{"tenth byte overflows 64 bits", "ffffffffffffffffff02", true, -1},
		{"nine continuation bytes", "ffffffffffffffffff", true, 0},
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.hex)
		var n int
		if tt.long {
			_, n = readVarlong(b)
		} else {
			_, n = readVarint(b)
		}
		if n != tt.n {
			t.Errorf("%s: n = %d, want %d", tt.name, n, tt.n)
		}
	}
	// Redundant continuation bytes are accepted on read, as Kafka accepts them.
	if v, n := readVarint([]byte{0x80, 0x80, 0x00}); v != 0 || n != 3 {
		t.Errorf("readVarint(808000) = %d, %d", v, n)
	}
}

func TestVarintProperties(t *testing.T) {
	// uvarintLen against encoding/binary for every bit length.
	for bits := range 65 {
		for _, u := range []uint64{1<<bits - 1, 1 << bits, 1<<bits + 1} {
			if bits == 64 && u != math.MaxUint64 {
				continue
			}
			if got, want := uvarintLen(u), len(binary.AppendUvarint(nil, u)); got != want {
				t.Fatalf("uvarintLen(%d) = %d, want %d", u, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, maxVarintLen64)
	for range 100_000 {
		v64 := int64(rng.Uint64() >> rng.IntN(64))
		if rng.IntN(2) == 0 {
			v64 = -v64
		}
		n := putVarlong(buf, v64)
		if got, m := readVarlong(buf[:n]); got != v64 || m != n || n != varlongLen(v64) {
			t.Fatalf("varlong %d: read %d, %d of %d bytes", v64, got, m, n)
		}
		v32 := int32(v64)
		n = putVarint(buf, v32)
		if got, m := readVarint(buf[:n]); got != v32 || m != n || n != varintLen(v32) {
			t.Fatalf("varint %d: read %d, %d of %d bytes", v32, got, m, n)
		}
	}
}

func FuzzVarint(f *testing.F) {
	f.Add([]byte{0x80, 0x01})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, n := readVarint(b); n > 0 {
			if n > maxVarintLen32 {
				t.Fatalf("varint of %d bytes", n)
			}
			// The value round-trips; its canonical encoding is no longer.
			buf := make([]byte, maxVarintLen32)
			if m := putVarint(buf, v); m > n {
				t.Fatalf("%x read as %d, which encodes in %d bytes", b[:n], v, m)
			}
		}
		if v, n := readVarlong(b); n > 0 {
			if n > maxVarintLen64 {
				t.Fatalf("varlong of %d bytes", n)
			}
			ref, m := binary.Varint(b)
			if m != n || ref != v {
				t.Fatalf("readVarlong(%x) = %d, %d; encoding/binary %d, %d", b, v, n, ref, m)
			}
		}
	})
}
