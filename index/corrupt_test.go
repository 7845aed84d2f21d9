package index

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stratalog/strata/internal/errs"
)

// checkCorrupt asserts that err is a *errs.CorruptError for path at position.
func checkCorrupt(t *testing.T, err error, path string, position int64) {
	t.Helper()
	var corrupt *errs.CorruptError
	if !errors.As(err, &corrupt) {
		t.Fatalf("error = %v, want a *errs.CorruptError", err)
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("errors.Is(err, ErrCorrupt) = false for %v", err)
	}
	if corrupt.Path != path || corrupt.Position != position {
		t.Errorf("CorruptError at %s:%d (%s), want %s:%d", corrupt.Path, corrupt.Position, corrupt.Reason, path, position)
	}
}

func zeros(n int) []byte { return make([]byte, n) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestOpenOffsetIndexCorrupt(t *testing.T) {
	const base = 100
	three := encodeOffsetEntries(base, offsetPair{101, 0}, offsetPair{105, 4096}, offsetPair{110, 8192})
	tests := []struct {
		name         string
		data         []byte
		base         int64
		logSize      int64
		maxBytes     int
		wantPosition int64
	}{
		{"partial trailing entry", concat(three, []byte{0, 0, 1}), base, -1, 0, 24},
		{"lone partial entry", []byte{1, 2, 3, 4, 5, 6, 7}, base, -1, 0, 0},
		{"equal relative offsets", encodeOffsetEntries(base, offsetPair{101, 0}, offsetPair{105, 10}, offsetPair{105, 20}), base, -1, 0, 16},
		{"decreasing relative offsets", encodeOffsetEntries(base, offsetPair{101, 0}, offsetPair{105, 10}, offsetPair{103, 20}), base, -1, 0, 16},
		{"equal positions", encodeOffsetEntries(base, offsetPair{101, 10}, offsetPair{102, 10}), base, -1, 0, 8},
		{"decreasing positions", encodeOffsetEntries(base, offsetPair{101, 10}, offsetPair{102, 5}), base, -1, 0, 8},
		{"zero-padded after 3 entries (Kafka preallocation)", concat(three, zeros(10<<10)), base, -1, 0, 24},
		{"zero-padded to MaxBytes", concat(three, zeros(1024-24)), base, -1, 1024, 24},
		{"all-zero file", zeros(10 << 10), base, -1, 0, 8},
		{"all-zero preallocated 10 MiB file", zeros(10 << 20), base, -1, 0, 8},
		{"position equal to log size", three, base, 8192, 0, 16},
		{"position beyond log size", three, base, 4000, 0, 8},
		{"entry in an empty log", encodeOffsetEntries(base, offsetPair{100, 0}), base, 0, 0, 0},
		{"file larger than MaxBytes", concat(three, three), base, -1, 40, 40},
		{"file larger than MaxBytes, rounded down", concat(three, three), base, -1, 47, 40},
		{"relative offset overflows int64", encodeOffsetEntries(0, offsetPair{10, 0}), math.MaxInt64 - 5, -1, 0, 0},
		{"earliest error wins over partial tail", concat(encodeOffsetEntries(base, offsetPair{105, 0}, offsetPair{104, 1}), []byte{9}), base, -1, 0, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, dir := newTestFS(t)
			path := filepath.Join(dir, "00000000000000000100.index")
			writeFile(t, fsys, path, tt.data)
			x, err := OpenOffsetIndex(fsys, path, tt.base, tt.logSize, &Options{MaxBytes: tt.maxBytes})
			if x != nil {
				t.Errorf("index = %v, want nil", x)
			}
			checkCorrupt(t, err, path, tt.wantPosition)
			if got := readFile(t, fsys, path); !bytes.Equal(got, tt.data) {
				t.Error("a rejected file was modified")
			}
			// The caller starts over.
			y, err := CreateOffsetIndex(fsys, path, tt.base, &Options{MaxBytes: tt.maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			if y.Len() != 0 || len(readFile(t, fsys, path)) != 0 {
				t.Fatal("CreateOffsetIndex after corruption is not empty")
			}
		})
	}
}

func TestOpenOffsetIndexValidEdges(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		logSize int64
		want    []offsetPair
	}{
		{"empty file", nil, 0, nil},
		{"single zero entry is base at position 0", zeros(8), 61, []offsetPair{{100, 0}}},
		{"position just below log size", encodeOffsetEntries(100, offsetPair{100, 0}, offsetPair{101, 99}), 100, []offsetPair{{100, 0}, {101, 99}}},
		{"log size unknown", encodeOffsetEntries(100, offsetPair{100, 0}, offsetPair{100 + MaxRelativeOffset, MaxPosition}), -1,
			[]offsetPair{{100, 0}, {100 + MaxRelativeOffset, MaxPosition}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, dir := newTestFS(t)
			path := filepath.Join(dir, "00000000000000000100.index")
			writeFile(t, fsys, path, tt.data)
			x, err := OpenOffsetIndex(fsys, path, 100, tt.logSize, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkOffsetEntries(t, x, tt.want)
		})
	}
}

func TestOpenTimeIndexCorrupt(t *testing.T) {
	const base = 100
	three := encodeTimeEntries(base, timePair{1000, 101}, timePair{2000, 105}, timePair{3000, 110})
	tests := []struct {
		name         string
		data         []byte
		base         int64
		maxBytes     int
		wantPosition int64
	}{
		{"partial trailing entry", concat(three, zeros(5)), base, 0, 36},
		{"lone partial entry", []byte{1, 2, 3}, base, 0, 0},
		{"equal timestamps", encodeTimeEntries(base, timePair{1000, 101}, timePair{1000, 102}), base, 0, 12},
		{"decreasing timestamps", concat(three, encodeTimeEntries(base, timePair{2500, 120})), base, 0, 36},
		{"decreasing relative offsets", encodeTimeEntries(base, timePair{1000, 105}, timePair{2000, 104}), base, 0, 12},
		// 10 KiB is not a multiple of 12: the zero entry comes before the partial tail.
		{"zero-padded after 3 entries (Kafka preallocation)", concat(three, zeros(10<<10)), base, 0, 36},
		{"zero-padded to MaxBytes", concat(three, zeros(1200-36)), base, 1200, 36},
		{"all-zero file", zeros(12 * 100), base, 0, 12},
		{"file larger than MaxBytes", concat(three, three), base, 48, 48},
		{"relative offset overflows int64", encodeTimeEntries(0, timePair{1, 10}), math.MaxInt64 - 5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, dir := newTestFS(t)
			path := filepath.Join(dir, "00000000000000000100.timeindex")
			writeFile(t, fsys, path, tt.data)
			x, err := OpenTimeIndex(fsys, path, tt.base, &Options{MaxBytes: tt.maxBytes})
			if x != nil {
				t.Errorf("index = %v, want nil", x)
			}
			checkCorrupt(t, err, path, tt.wantPosition)
			if got := readFile(t, fsys, path); !bytes.Equal(got, tt.data) {
				t.Error("a rejected file was modified")
			}
		})
	}
}

func TestOpenTimeIndexValidEdges(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []timePair
	}{
		{"empty file", nil, nil},
		{"single zero entry", zeros(12), []timePair{{0, 100}}},
		{"repeated offsets", encodeTimeEntries(100, timePair{1, 100}, timePair{2, 100}, timePair{3, 101}),
			[]timePair{{1, 100}, {2, 100}, {3, 101}}},
		{"negative timestamps", encodeTimeEntries(100, timePair{math.MinInt64, 100}, timePair{-1, 100}, timePair{0, 101}),
			[]timePair{{math.MinInt64, 100}, {-1, 100}, {0, 101}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, dir := newTestFS(t)
			path := filepath.Join(dir, "00000000000000000100.timeindex")
			writeFile(t, fsys, path, tt.data)
			x, err := OpenTimeIndex(fsys, path, 100, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkTimeEntries(t, x, tt.want)
		})
	}
}

// TestOpenOversizedFileDoesNotAllocate opens a file far bigger than MaxBytes: the size
// check comes before any read, so neither a buffer nor the entries are allocated.
func TestOpenOversizedFileDoesNotAllocate(t *testing.T) {
	base, dir := newTestFS(t)
	fsys := &countingFS{FS: base}
	path := filepath.Join(dir, "0.index")
	writeFile(t, fsys, path, zeros(64<<20))
	tests := []struct {
		name         string
		open         func() error
		wantPosition int64
	}{
		{"offset index", func() error { _, err := OpenOffsetIndex(fsys, path, 0, -1, nil); return err },
			DefaultMaxBytes / OffsetEntrySize * OffsetEntrySize},
		{"time index", func() error { _, err := OpenTimeIndex(fsys, path, 0, nil); return err },
			DefaultMaxBytes / TimeEntrySize * TimeEntrySize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tt.open()
			runtime.ReadMemStats(&after)
			checkCorrupt(t, err, path, tt.wantPosition)
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 64<<10 {
				t.Errorf("opening an oversized file allocated %d bytes", allocated)
			}
		})
	}
	if fsys.maxReadSize != 0 {
		t.Errorf("opening an oversized file read %d bytes", fsys.maxReadSize)
	}
}

// TestOpenReadsInBoundedChunks checks that loading a full-size index never asks for
// more than one chunk at a time and allocates about the size of its entries.
func TestOpenReadsInBoundedChunks(t *testing.T) {
	base, dir := newTestFS(t)
	fsys := &countingFS{FS: base}
	path := filepath.Join(dir, "0.index")
	x, err := CreateOffsetIndex(fsys, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(x.MaxEntries()) {
		if err := x.Append(i, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	y, err := OpenOffsetIndex(fsys, path, 0, -1, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !y.IsFull() {
		t.Fatalf("Len = %d, want a full index", y.Len())
	}
	if fsys.maxReadSize > readChunkBytes {
		t.Errorf("largest read %d bytes, want <= %d", fsys.maxReadSize, readChunkBytes)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > DefaultMaxBytes+256<<10 {
		t.Errorf("loading a %d-byte index allocated %d bytes", DefaultMaxBytes, allocated)
	}
}
