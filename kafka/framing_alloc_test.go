package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

// TestRequestPrefixAloneAllocatesLittle sends length prefixes within the limit
// (100 MiB, 50 MiB) followed by a few bytes only, as a client that stalls or
// lies: what the frame reader allocates follows the bytes that came, not the
// size the prefix claims, so that a thousand connections each claiming
// socket.request.max.bytes and sending nothing more do not make the server
// allocate 100 GiB. A frame that does come whole is read whole.
func TestRequestPrefixAloneAllocatesLittle(t *testing.T) {
	for _, prefix := range []uint32{DefaultMaxRequestBytes, 50 << 20} {
		input := binary.BigEndian.AppendUint32(nil, prefix)
		input = append(input, make([]byte, 4096)...)
		var stats0, stats1 runtime.MemStats
		runtime.ReadMemStats(&stats0)
		for range 10 {
			_, err := readFrame(bytes.NewReader(input), DefaultMaxRequestBytes)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("prefix %d and 4 KiB: %v, want io.ErrUnexpectedEOF", prefix, err)
			}
		}
		runtime.ReadMemStats(&stats1)
		if allocated := stats1.TotalAlloc - stats0.TotalAlloc; allocated > 32<<20 {
			t.Errorf("prefix %d followed by 4 KiB, 10 times: %d bytes allocated, want those the bytes received need", prefix, allocated)
		}
	}
	for _, size := range []int{0, 1, 4096, 1 << 20, 3<<20 + 5} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(i * 7)
		}
		input := append(binary.BigEndian.AppendUint32(nil, uint32(size)), body...)
		input = append(input, 0xff) // the next frame's first byte: not read
		frame, err := readFrame(io.MultiReader(bytes.NewReader(input[:size/2+4]), bytes.NewReader(input[size/2+4:])), DefaultMaxRequestBytes)
		if err != nil || !bytes.Equal(frame, body) {
			t.Fatalf("a frame of %d bytes: %d bytes read, %v", size, len(frame), err)
		}
	}
}
