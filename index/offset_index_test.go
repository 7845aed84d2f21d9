package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// offsetPair is an absolute (offset, position) entry, as the API speaks.
type offsetPair struct{ offset, position int64 }

// encodeOffsetEntries returns the .index bytes of entries relative to base, written
// independently of the package's encoder.
func encodeOffsetEntries(base int64, entries ...offsetPair) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, uint32(e.offset-base))
		b = binary.BigEndian.AppendUint32(b, uint32(e.position))
	}
	return b
}

func offsetEntries(x *OffsetIndex) []offsetPair {
	var got []offsetPair
	for i := range x.Len() {
		offset, position := x.Entry(i)
		got = append(got, offsetPair{offset, position})
	}
	return got
}

func checkOffsetEntries(t *testing.T, x *OffsetIndex, want []offsetPair) {
	t.Helper()
	got := offsetEntries(x)
	if len(got) != len(want) {
		t.Fatalf("entries = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("entries = %v, want %v", got, want)
		}
	}
}

func createOffsetIndex(t testing.TB, base int64, opts *Options, entries ...offsetPair) (*OffsetIndex, string) {
	t.Helper()
	fsys, dir := newTestFS(t)
	path := filepath.Join(dir, "00000000000000368769.index")
	x, err := CreateOffsetIndex(fsys, path, base, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := x.Append(e.offset, e.position); err != nil {
			t.Fatalf("Append(%d, %d): %v", e.offset, e.position, err)
		}
	}
	return x, path
}

// kafkaExample is the segment of the design notes: base 368769, one entry per 4 KiB.
const kafkaBase = 368769

var kafkaEntries = []offsetPair{{368770, 0}, {368776, 4096}, {368790, 8192}}

func TestOffsetIndexLookup(t *testing.T) {
	tests := []struct {
		name         string
		offset       int64
		wantOffset   int64
		wantPosition int64
	}{
		{"far below base", 0, kafkaBase, 0},
		{"negative", -1, kafkaBase, 0},
		{"min int64", math.MinInt64, kafkaBase, 0},
		{"just below base", kafkaBase - 1, kafkaBase, 0},
		{"base, before first entry", kafkaBase, kafkaBase, 0},
		{"on first entry", 368770, 368770, 0},
		{"between first and second", 368771, 368770, 0},
		{"just before second", 368775, 368770, 0},
		{"on second entry", 368776, 368776, 4096},
		{"between second and last", 368777, 368776, 4096},
		{"just before last", 368789, 368776, 4096},
		{"on last entry", 368790, 368790, 8192},
		{"after last", 368791, 368790, 8192},
		{"max relative offset", kafkaBase + MaxRelativeOffset, 368790, 8192},
		{"beyond 32-bit relative range", kafkaBase + MaxRelativeOffset + 1, 368790, 8192},
		{"max int64", math.MaxInt64, 368790, 8192},
	}
	x, path := createOffsetIndex(t, kafkaBase, nil, kafkaEntries...)
	fsys := x.file.fsys
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := OpenOffsetIndex(fsys, path, kafkaBase, 8192+1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	for _, index := range []struct {
		name string
		x    *OffsetIndex
	}{{"appended", x}, {"loaded", reopened}} {
		for _, tt := range tests {
			t.Run(index.name+"/"+tt.name, func(t *testing.T) {
				offset, position := index.x.Lookup(tt.offset)
				if offset != tt.wantOffset || position != tt.wantPosition {
					t.Errorf("Lookup(%d) = (%d, %d), want (%d, %d)",
						tt.offset, offset, position, tt.wantOffset, tt.wantPosition)
				}
			})
		}
	}
}

func TestOffsetIndexLookupEmpty(t *testing.T) {
	x, _ := createOffsetIndex(t, kafkaBase, nil)
	for _, offset := range []int64{0, kafkaBase, kafkaBase + 1, math.MaxInt64} {
		if o, p := x.Lookup(offset); o != kafkaBase || p != 0 {
			t.Errorf("Lookup(%d) on empty index = (%d, %d), want (%d, 0)", offset, o, p, kafkaBase)
		}
	}
	if _, _, ok := x.LastEntry(); ok {
		t.Error("LastEntry on empty index: ok = true")
	}
}

// TestOffsetIndexLookupModel checks the binary search against a linear scan over
// random sparse indexes.
func TestOffsetIndexLookupModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for round := range 200 {
		base := rng.Int64N(1 << 40)
		x, _ := createOffsetIndex(t, base, nil)
		offset, position := base+rng.Int64N(3), int64(0)
		for range rng.IntN(50) {
			if err := x.Append(offset, position); err != nil {
				t.Fatal(err)
			}
			offset += 1 + rng.Int64N(20)
			position += 1 + rng.Int64N(5000)
		}
		entries := offsetEntries(x)
		for range 100 {
			target := base - 2 + rng.Int64N(offset-base+4)
			wantOffset, wantPosition := base, int64(0)
			for _, e := range entries {
				if e.offset <= target {
					wantOffset, wantPosition = e.offset, e.position
				}
			}
			if o, p := x.Lookup(target); o != wantOffset || p != wantPosition {
				t.Fatalf("seed %d round %d: Lookup(%d) = (%d, %d), want (%d, %d); entries %v",
					seed, round, target, o, p, wantOffset, wantPosition, entries)
			}
		}
	}
}

func TestOffsetIndexLookupDoesNotAllocate(t *testing.T) {
	x, _ := createOffsetIndex(t, kafkaBase, nil, kafkaEntries...)
	var sink int64
	allocs := testing.AllocsPerRun(100, func() {
		_, p := x.Lookup(368777)
		sink += p
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times", allocs)
	}
}

func TestOffsetIndexAppendInvalid(t *testing.T) {
	const base = 1000
	tests := []struct {
		name             string
		offset, position int64
	}{
		{"offset below base", base - 1, 9000},
		{"offset equal to last", 1010, 9000},
		{"offset below last", 1005, 9000},
		{"position equal to last", 1011, 8000},
		{"position below last", 1011, 100},
		{"negative position", 1011, -1},
		{"position beyond uint32", 1011, MaxPosition + 1},
		{"relative offset beyond uint32", base + MaxRelativeOffset + 1, 9000},
		{"max int64 offset", math.MaxInt64, 9000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := createOffsetIndex(t, base, nil, offsetPair{1000, 0}, offsetPair{1010, 8000})
			err := x.Append(tt.offset, tt.position)
			if !errors.Is(err, ErrInvalidArgument) || !errors.Is(err, errs.ErrInvalidArgument) {
				t.Fatalf("Append(%d, %d) = %v, want ErrInvalidArgument", tt.offset, tt.position, err)
			}
			checkOffsetEntries(t, x, []offsetPair{{1000, 0}, {1010, 8000}})
		})
	}
}

func TestOffsetIndexAppendLimits(t *testing.T) {
	x, _ := createOffsetIndex(t, 5, nil)
	// The extremes that still fit the 32-bit fields.
	if err := x.Append(5, 0); err != nil {
		t.Fatal(err)
	}
	if err := x.Append(5+MaxRelativeOffset, MaxPosition); err != nil {
		t.Fatal(err)
	}
	checkOffsetEntries(t, x, []offsetPair{{5, 0}, {5 + MaxRelativeOffset, MaxPosition}})
}

func TestOffsetIndexFull(t *testing.T) {
	for _, maxBytes := range []int{32, 33, 39} {
		x, _ := createOffsetIndex(t, 0, &Options{MaxBytes: maxBytes})
		if got := x.MaxEntries(); got != 4 {
			t.Fatalf("MaxBytes %d: MaxEntries = %d, want 4", maxBytes, got)
		}
		for i := range int64(4) {
			if x.IsFull() {
				t.Fatalf("MaxBytes %d: IsFull with %d entries", maxBytes, i)
			}
			if err := x.Append(i, i*100); err != nil {
				t.Fatal(err)
			}
		}
		if !x.IsFull() {
			t.Fatalf("MaxBytes %d: not IsFull with 4 entries", maxBytes)
		}
		if err := x.Append(10, 1000); !errors.Is(err, ErrIndexFull) {
			t.Fatalf("MaxBytes %d: Append to full index = %v, want ErrIndexFull", maxBytes, err)
		}
		// A bad argument is reported as such even on a full index.
		if err := x.Append(1, 1000); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("Append(bad) to full index = %v, want ErrInvalidArgument", err)
		}
		if x.Len() != 4 {
			t.Fatalf("Len = %d after ErrIndexFull", x.Len())
		}
		// Truncation makes room again.
		if err := x.TruncateTo(3); err != nil {
			t.Fatal(err)
		}
		if x.IsFull() {
			t.Fatal("IsFull after TruncateTo")
		}
	}
}

func TestOffsetIndexDefaultMaxEntries(t *testing.T) {
	x, _ := createOffsetIndex(t, 0, nil)
	if got, want := x.MaxEntries(), 10<<20/8; got != want {
		t.Errorf("MaxEntries = %d, want %d", got, want)
	}
	y, _ := createOffsetIndex(t, 0, &Options{})
	if got, want := y.MaxEntries(), 10<<20/8; got != want {
		t.Errorf("zero Options: MaxEntries = %d, want %d", got, want)
	}
}

func TestOffsetIndexInvalidOptions(t *testing.T) {
	fsys, dir := newTestFS(t)
	path := filepath.Join(dir, "0.index")
	for _, opts := range []*Options{{MaxBytes: -1}, {MaxBytes: 1}, {MaxBytes: 7}} {
		if _, err := CreateOffsetIndex(fsys, path, 0, opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Create with MaxBytes %d = %v, want ErrInvalidArgument", opts.MaxBytes, err)
		}
		if _, err := OpenOffsetIndex(fsys, path, 0, -1, opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Open with MaxBytes %d = %v, want ErrInvalidArgument", opts.MaxBytes, err)
		}
	}
	if _, err := CreateOffsetIndex(fsys, path, -1, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Create with base -1 = %v, want ErrInvalidArgument", err)
	}
	if _, err := fsys.Stat(path); err == nil {
		t.Error("invalid arguments created the file")
	}
}

func TestOffsetIndexRoundTrip(t *testing.T) {
	x, path := createOffsetIndex(t, kafkaBase, nil, kafkaEntries...)
	fsys := x.file.fsys
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	// The file holds exactly Kafka's bytes.
	want := []byte{
		0, 0, 0, 1, 0, 0, 0, 0, // 368770 - 368769, position 0
		0, 0, 0, 7, 0, 0, 0x10, 0, // 368776, 4096
		0, 0, 0, 21, 0, 0, 0x20, 0, // 368790, 8192
	}
	if got := readFile(t, fsys, path); !bytes.Equal(got, want) {
		t.Fatalf("file = %x, want %x", got, want)
	}
	y, err := OpenOffsetIndex(fsys, path, kafkaBase, 10000, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkOffsetEntries(t, y, kafkaEntries)
	if offset, position, ok := y.LastEntry(); !ok || offset != 368790 || position != 8192 {
		t.Errorf("LastEntry = (%d, %d, %v)", offset, position, ok)
	}
	if y.Base() != kafkaBase || y.Path() != path || y.SizeBytes() != 24 {
		t.Errorf("Base %d Path %q SizeBytes %d", y.Base(), y.Path(), y.SizeBytes())
	}
	// Appending after a reload continues the same file.
	if err := y.Append(368800, 12288); err != nil {
		t.Fatal(err)
	}
	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	z, err := OpenOffsetIndex(fsys, path, kafkaBase, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkOffsetEntries(t, z, append(append([]offsetPair(nil), kafkaEntries...), offsetPair{368800, 12288}))
}

func TestOpenOffsetIndexCreatesMissingFile(t *testing.T) {
	fsys, dir := newTestFS(t)
	path := filepath.Join(dir, "00000000000000000042.index")
	x, err := OpenOffsetIndex(fsys, path, 42, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != 0 {
		t.Fatalf("Len = %d", x.Len())
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if info, err := fsys.Stat(path); err != nil || info.Size() != 0 {
		t.Fatalf("Stat = %v, %v; want an empty file", info, err)
	}
}

func TestCreateOffsetIndexTruncates(t *testing.T) {
	fsys, dir := newTestFS(t)
	path := filepath.Join(dir, "0.index")
	writeFile(t, fsys, path, []byte("garbage that is not an index"))
	x, err := CreateOffsetIndex(fsys, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Len() != 0 || len(readFile(t, fsys, path)) != 0 {
		t.Fatal("CreateOffsetIndex did not start empty")
	}
}

func TestOffsetIndexFlushWritesOnlyNewEntries(t *testing.T) {
	base, dir := newTestFS(t)
	fsys := &countingFS{FS: base}
	path := filepath.Join(dir, "0.index")
	x, err := CreateOffsetIndex(fsys, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	step := func(what string, wantWriteAts int, wantSize int) {
		t.Helper()
		if writeAts, _, _ := fsys.counts(); writeAts != wantWriteAts {
			t.Fatalf("%s: %d WriteAt calls, want %d", what, writeAts, wantWriteAts)
		}
		if got := len(readFile(t, base, path)); got != wantSize {
			t.Fatalf("%s: file size %d, want %d", what, got, wantSize)
		}
	}
	for i := range int64(3) {
		if err := x.Append(i*10, i*4096); err != nil {
			t.Fatal(err)
		}
	}
	step("Append only", 0, 0)
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	step("first Flush", 1, 24)
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	step("Flush with nothing new", 1, 24)
	for i := range int64(2) {
		if err := x.Append(100+i, 100000+i); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Sync(); err != nil {
		t.Fatal(err)
	}
	step("Sync", 2, 40)
	if _, syncs, _ := fsys.counts(); syncs != 1 {
		t.Fatalf("%d fsyncs, want 1", syncs)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	step("Close with nothing new", 2, 40)
	want := encodeOffsetEntries(0, offsetPair{0, 0}, offsetPair{10, 4096}, offsetPair{20, 8192},
		offsetPair{100, 100000}, offsetPair{101, 100001})
	if got := readFile(t, base, path); !bytes.Equal(got, want) {
		t.Fatalf("file = %x, want %x", got, want)
	}
}

func TestOffsetIndexTruncateTo(t *testing.T) {
	entries := []offsetPair{{100, 0}, {110, 4096}, {120, 8192}, {130, 12288}}
	tests := []struct {
		offset int64
		want   int // entries kept
	}{
		{math.MinInt64, 0}, {0, 0}, {99, 0}, {100, 0}, {101, 1}, {110, 1}, {111, 2},
		{120, 2}, {130, 3}, {131, 4}, {math.MaxInt64, 4},
	}
	for _, flushed := range []bool{false, true} {
		for _, tt := range tests {
			x, path := createOffsetIndex(t, 100, nil, entries...)
			if flushed {
				if err := x.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if err := x.TruncateTo(tt.offset); err != nil {
				t.Fatal(err)
			}
			checkOffsetEntries(t, x, entries[:tt.want])
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			if got, want := readFile(t, x.file.fsys, path), encodeOffsetEntries(100, entries[:tt.want]...); !bytes.Equal(got, want) {
				t.Fatalf("flushed %v, TruncateTo(%d): file %x, want %x", flushed, tt.offset, got, want)
			}
		}
	}
}

func TestOffsetIndexTruncateToPosition(t *testing.T) {
	entries := []offsetPair{{100, 0}, {110, 4096}, {120, 8192}, {130, 12288}}
	tests := []struct {
		position int64
		want     int
	}{
		{-1, 0}, {0, 0}, {1, 1}, {4096, 1}, {4097, 2}, {8192, 2}, {12288, 3}, {12289, 4},
		{math.MaxInt64, 4},
	}
	for _, tt := range tests {
		x, path := createOffsetIndex(t, 100, nil, entries...)
		if err := x.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := x.TruncateToPosition(tt.position); err != nil {
			t.Fatal(err)
		}
		checkOffsetEntries(t, x, entries[:tt.want])
		// Appending after a truncation continues from the new end, in memory and file.
		next := offsetPair{200, 50000}
		if err := x.Append(next.offset, next.position); err != nil {
			t.Fatal(err)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		want := append(append([]offsetPair(nil), entries[:tt.want]...), next)
		y, err := OpenOffsetIndex(x.file.fsys, path, 100, -1, nil)
		if err != nil {
			t.Fatalf("TruncateToPosition(%d): reopen: %v", tt.position, err)
		}
		checkOffsetEntries(t, y, want)
	}
}

func TestOffsetIndexTruncateUnflushedDoesNotTouchFile(t *testing.T) {
	base, dir := newTestFS(t)
	fsys := &countingFS{FS: base}
	x, err := CreateOffsetIndex(fsys, filepath.Join(dir, "0.index"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(4) {
		if err := x.Append(i, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.Append(10, 10); err != nil {
		t.Fatal(err)
	}
	if err := x.TruncateTo(10); err != nil { // only the unflushed entry goes
		t.Fatal(err)
	}
	if _, _, truncates := fsys.counts(); truncates != 0 {
		t.Errorf("%d file truncates, want 0", truncates)
	}
	if err := x.TruncateTo(2); err != nil {
		t.Fatal(err)
	}
	if _, _, truncates := fsys.counts(); truncates != 1 {
		t.Errorf("%d file truncates, want 1", truncates)
	}
}

func TestOffsetIndexReset(t *testing.T) {
	x, path := createOffsetIndex(t, kafkaBase, nil, kafkaEntries...)
	if err := x.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := x.Reset(); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 0 || x.SizeBytes() != 0 {
		t.Fatalf("Len %d SizeBytes %d after Reset", x.Len(), x.SizeBytes())
	}
	if got := readFile(t, x.file.fsys, path); len(got) != 0 {
		t.Fatalf("file after Reset = %x", got)
	}
	if o, p := x.Lookup(368790); o != kafkaBase || p != 0 {
		t.Fatalf("Lookup after Reset = (%d, %d)", o, p)
	}
	// The reset index takes entries from offset base again.
	if err := x.Append(kafkaBase, 0); err != nil {
		t.Fatal(err)
	}
}

func TestOffsetIndexClose(t *testing.T) {
	x, _ := createOffsetIndex(t, kafkaBase, nil, kafkaEntries...)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	for name, call := range map[string]func() error{
		"Append":             func() error { return x.Append(368800, 20000) },
		"Flush":              x.Flush,
		"Sync":               x.Sync,
		"TruncateTo":         func() error { return x.TruncateTo(368800) },
		"TruncateToPosition": func() error { return x.TruncateToPosition(20000) },
	} {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	// Lookups keep answering from memory.
	if o, p := x.Lookup(368780); o != 368776 || p != 4096 {
		t.Errorf("Lookup after Close = (%d, %d)", o, p)
	}
	// Reset after Close still reports ErrClosed but empties memory.
	if err := x.Reset(); !errors.Is(err, ErrClosed) || x.Len() != 0 {
		t.Errorf("Reset after Close = %v, Len %d", err, x.Len())
	}
}

func TestOffsetIndexRenameAndRemove(t *testing.T) {
	x, path := createOffsetIndex(t, kafkaBase, nil, kafkaEntries...)
	fsys := x.file.fsys
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	cleaned := path + ".cleaned"
	if err := x.Rename(cleaned); err != nil {
		t.Fatal(err)
	}
	if x.Path() != cleaned {
		t.Fatalf("Path = %q after Rename", x.Path())
	}
	if _, err := fsys.Stat(path); err == nil {
		t.Fatal("old path still exists")
	}
	// Writes keep going to the renamed file.
	if err := x.Append(368800, 12288); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed index can be renamed too (.cleaned -> .swap -> final name).
	if err := x.Rename(path); err != nil {
		t.Fatal(err)
	}
	y, err := OpenOffsetIndex(fsys, path, kafkaBase, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != 4 {
		t.Fatalf("Len = %d after rename round trip", y.Len())
	}
	if err := y.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(path); err == nil {
		t.Fatal("file exists after Remove")
	}
	if err := y.Remove(); err != nil {
		t.Fatalf("second Remove = %v, want nil", err)
	}
	if err := y.Append(368800, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Remove = %v, want ErrClosed", err)
	}
}

func TestOffsetIndexStickyWriteError(t *testing.T) {
	fsys, faults, dir := newFaultyFS(t)
	path := filepath.Join(dir, "0.index")
	x, err := CreateOffsetIndex(fsys, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(3) {
		if err := x.Append(i, i*100); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.Append(10, 1000); err != nil {
		t.Fatal(err)
	}
	// A short write: half the bytes land, then EIO.
	faults.Set(vfs.ShortWriteAfter(0, syscall.EIO))
	if err := x.Flush(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Flush = %v, want EIO", err)
	}
	faults.Set(nil)
	// Sticky: the index refuses writes although the disk recovered.
	for name, call := range map[string]func() error{
		"Append": func() error { return x.Append(20, 2000) },
		"Flush":  x.Flush,
		"Sync":   x.Sync,
	} {
		if err := call(); !errors.Is(err, syscall.EIO) {
			t.Errorf("%s after failed write = %v, want EIO", name, err)
		}
	}
	// A truncation still cuts memory so lookups never point past a truncated log.
	if err := x.TruncateTo(2); !errors.Is(err, syscall.EIO) {
		t.Errorf("TruncateTo after failed write = %v", err)
	}
	if x.Len() != 2 {
		t.Errorf("Len = %d after TruncateTo(2)", x.Len())
	}
	// Close reports the error and leaves an empty (always valid) file behind.
	if err := x.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Close = %v, want EIO", err)
	}
	if got := readFile(t, fsys, path); len(got) != 0 {
		t.Errorf("file after Close of a failed index = %x, want empty", got)
	}
}

func TestOffsetIndexStickySyncError(t *testing.T) {
	base, faults, dir := newFaultyFS(t)
	fsys := &countingFS{FS: base}
	x, err := CreateOffsetIndex(fsys, filepath.Join(dir, "0.index"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Append(0, 0); err != nil {
		t.Fatal(err)
	}
	faults.Set(vfs.FailOp(vfs.OpSync, syscall.EIO))
	if err := x.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Sync = %v", err)
	}
	faults.Set(nil)
	if err := x.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("second Sync = %v: an fsync error must not be retried away", err)
	}
	if _, syncs, _ := fsys.counts(); syncs != 1 {
		t.Fatalf("%d fsyncs, want 1", syncs)
	}
}

func TestOffsetIndexTruncateError(t *testing.T) {
	fsys, faults, dir := newFaultyFS(t)
	path := filepath.Join(dir, "0.index")
	x, err := CreateOffsetIndex(fsys, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(3) {
		if err := x.Append(i, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	faults.Set(vfs.FailOp(vfs.OpTruncate, syscall.EIO))
	if err := x.TruncateTo(1); !errors.Is(err, syscall.EIO) {
		t.Fatalf("TruncateTo = %v", err)
	}
	if x.Len() != 1 {
		t.Fatalf("Len = %d: memory must be cut even when the file is not", x.Len())
	}
	if err := x.Append(5, 5); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append after failed truncate = %v", err)
	}
	if err := x.Flush(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Flush after failed truncate = %v", err)
	}
	faults.Set(nil)
	if err := x.Close(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Close = %v", err)
	}
	if got := readFile(t, fsys, path); len(got) != 0 {
		t.Fatalf("file after Close of a failed index = %x, want empty", got)
	}
}

func TestOffsetIndexOpenErrors(t *testing.T) {
	fsys, faults, dir := newFaultyFS(t)
	path := filepath.Join(dir, "0.index")
	writeFile(t, fsys, path, encodeOffsetEntries(0, offsetPair{0, 0}, offsetPair{1, 1}))
	for _, op := range []vfs.Op{vfs.OpOpen, vfs.OpRead, vfs.OpStat} {
		faults.Set(vfs.FailOp(op, syscall.EIO))
		x, err := OpenOffsetIndex(fsys, path, 0, -1, nil)
		if x != nil || !errors.Is(err, syscall.EIO) || errors.Is(err, ErrCorrupt) {
			t.Errorf("Open with failing %v = %v, %v; want nil, EIO", op, x, err)
		}
	}
	faults.Set(nil)
	if _, err := OpenOffsetIndex(fsys, path, 0, -1, nil); err != nil {
		t.Fatal(err)
	}
}
