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

	"github.com/stratalog/strata/vfs"
)

// timePair is an absolute (timestamp, offset) entry, as the API speaks.
type timePair struct{ timestamp, offset int64 }

// encodeTimeEntries returns the .timeindex bytes of entries relative to base, written
// independently of the package's encoder.
func encodeTimeEntries(base int64, entries ...timePair) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.timestamp))
		b = binary.BigEndian.AppendUint32(b, uint32(e.offset-base))
	}
	return b
}

func timeEntries(x *TimeIndex) []timePair {
	var got []timePair
	for i := range x.Len() {
		timestamp, offset := x.Entry(i)
		got = append(got, timePair{timestamp, offset})
	}
	return got
}

func checkTimeEntries(t *testing.T, x *TimeIndex, want []timePair) {
	t.Helper()
	got := timeEntries(x)
	if len(got) != len(want) {
		t.Fatalf("entries = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("entries = %v, want %v", got, want)
		}
	}
}

func createTimeIndex(t testing.TB, base int64, opts *Options, entries ...timePair) (*TimeIndex, string) {
	t.Helper()
	fsys, dir := newTestFS(t)
	path := filepath.Join(dir, "00000000000000368769.timeindex")
	x, err := CreateTimeIndex(fsys, path, base, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := x.MaybeAppend(e.timestamp, e.offset); err != nil {
			t.Fatalf("MaybeAppend(%d, %d): %v", e.timestamp, e.offset, err)
		}
	}
	return x, path
}

var kafkaTimeEntries = []timePair{{1000, 368770}, {2000, 368776}, {3000, 368790}}

func TestTimeIndexLookupBefore(t *testing.T) {
	tests := []struct {
		name          string
		ts            int64
		wantTimestamp int64
		wantOffset    int64
		wantOK        bool
	}{
		{"min int64", math.MinInt64, 0, kafkaBase, false},
		{"negative", -1, 0, kafkaBase, false},
		{"below first", 999, 0, kafkaBase, false},
		{"equal to first: strictly less needed", 1000, 0, kafkaBase, false},
		{"just after first", 1001, 1000, 368770, true},
		{"equal to second", 2000, 1000, 368770, true},
		{"just after second", 2001, 2000, 368776, true},
		{"equal to last", 3000, 2000, 368776, true},
		{"just after last", 3001, 3000, 368790, true},
		{"max int64", math.MaxInt64, 3000, 368790, true},
	}
	x, path := createTimeIndex(t, kafkaBase, nil, kafkaTimeEntries...)
	fsys := x.file.fsys
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := OpenTimeIndex(fsys, path, kafkaBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	for _, index := range []struct {
		name string
		x    *TimeIndex
	}{{"appended", x}, {"loaded", reopened}} {
		for _, tt := range tests {
			t.Run(index.name+"/"+tt.name, func(t *testing.T) {
				timestamp, offset, ok := index.x.LookupBefore(tt.ts)
				if ok != tt.wantOK || offset != tt.wantOffset || (ok && timestamp != tt.wantTimestamp) {
					t.Errorf("LookupBefore(%d) = (%d, %d, %v), want (%d, %d, %v)",
						tt.ts, timestamp, offset, ok, tt.wantTimestamp, tt.wantOffset, tt.wantOK)
				}
			})
		}
	}
}

func TestTimeIndexLookupBeforeEmpty(t *testing.T) {
	x, _ := createTimeIndex(t, kafkaBase, nil)
	for _, ts := range []int64{math.MinInt64, 0, math.MaxInt64} {
		if _, offset, ok := x.LookupBefore(ts); ok || offset != kafkaBase {
			t.Errorf("LookupBefore(%d) on empty index = (_, %d, %v), want (_, %d, false)", ts, offset, ok, kafkaBase)
		}
	}
}

// TestTimeIndexLookupBeforeModel checks LookupBefore against a linear scan, and the
// promise that a search may start at the returned offset, over random record streams.
func TestTimeIndexLookupBeforeModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for round := range 200 {
		base := rng.Int64N(1 << 40)
		x, _ := createTimeIndex(t, base, nil)
		// Records with jittery timestamps; index every few records like a segment.
		var timestamps []int64
		maxSoFar, offsetOfMax := int64(math.MinInt64), base
		for i := range int64(rng.IntN(200)) {
			ts := 1000 + i*10 + rng.Int64N(50) - 25
			timestamps = append(timestamps, ts)
			if ts > maxSoFar {
				maxSoFar, offsetOfMax = ts, base+i
			}
			if rng.IntN(4) == 0 {
				if err := x.MaybeAppend(maxSoFar, offsetOfMax); err != nil {
					t.Fatal(err)
				}
			}
		}
		entries := timeEntries(x)
		for range 100 {
			target := 900 + rng.Int64N(2400)
			var want timePair
			wantOK := false
			for _, e := range entries {
				if e.timestamp < target {
					want, wantOK = e, true
				}
			}
			timestamp, offset, ok := x.LookupBefore(target)
			if ok != wantOK || (ok && (timestamp != want.timestamp || offset != want.offset)) || (!ok && offset != base) {
				t.Fatalf("seed %d round %d: LookupBefore(%d) = (%d, %d, %v), want %v %v",
					seed, round, target, timestamp, offset, ok, want, wantOK)
			}
			// No record below offset reaches the target.
			for i := base; i < offset; i++ {
				if timestamps[i-base] >= target {
					t.Fatalf("seed %d round %d: record %d has timestamp %d >= %d below LookupBefore's offset %d",
						seed, round, i, timestamps[i-base], target, offset)
				}
			}
		}
	}
}

func TestTimeIndexLookupBeforeDoesNotAllocate(t *testing.T) {
	x, _ := createTimeIndex(t, kafkaBase, nil, kafkaTimeEntries...)
	var sink int64
	allocs := testing.AllocsPerRun(100, func() {
		_, offset, _ := x.LookupBefore(2500)
		sink += offset
	})
	if allocs != 0 {
		t.Errorf("LookupBefore allocates %v times", allocs)
	}
}

func TestTimeIndexMaybeAppend(t *testing.T) {
	const base = 1000
	initial := []timePair{{100, 1000}, {200, 1010}}
	tests := []struct {
		name              string
		timestamp, offset int64
		wantErr           error
		want              []timePair
	}{
		{"greater timestamp, greater offset", 300, 1020, nil, append(initial[:2:2], timePair{300, 1020})},
		{"greater timestamp, same offset", 300, 1010, nil, append(initial[:2:2], timePair{300, 1010})},
		{"equal timestamp: no-op", 200, 1020, nil, initial},
		{"smaller timestamp: no-op", 50, 1020, nil, initial},
		{"offset below last", 300, 1009, ErrInvalidArgument, initial},
		{"offset below last with stale timestamp", 50, 1009, ErrInvalidArgument, initial},
		{"offset below base", 300, base - 1, ErrInvalidArgument, initial},
		{"relative offset beyond uint32", 300, base + MaxRelativeOffset + 1, ErrInvalidArgument, initial},
		{"max timestamp and max relative offset", math.MaxInt64, base + MaxRelativeOffset, nil,
			append(initial[:2:2], timePair{math.MaxInt64, base + MaxRelativeOffset})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := createTimeIndex(t, base, nil, initial...)
			if err := x.MaybeAppend(tt.timestamp, tt.offset); !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("MaybeAppend(%d, %d) = %v, want %v", tt.timestamp, tt.offset, err, tt.wantErr)
			}
			checkTimeEntries(t, x, tt.want)
		})
	}
}

func TestTimeIndexFirstEntry(t *testing.T) {
	// The first entry may carry any timestamp, even negative, and the base offset.
	x, _ := createTimeIndex(t, 7, nil)
	if err := x.MaybeAppend(-5, 7); err != nil {
		t.Fatal(err)
	}
	if timestamp, offset, ok := x.LastEntry(); !ok || timestamp != -5 || offset != 7 {
		t.Fatalf("LastEntry = (%d, %d, %v)", timestamp, offset, ok)
	}
}

func TestTimeIndexFull(t *testing.T) {
	x, _ := createTimeIndex(t, 0, &Options{MaxBytes: 36})
	if x.MaxEntries() != 3 {
		t.Fatalf("MaxEntries = %d", x.MaxEntries())
	}
	for i := range int64(3) {
		if err := x.MaybeAppend(100+i, i); err != nil {
			t.Fatal(err)
		}
	}
	if !x.IsFull() {
		t.Fatal("not IsFull")
	}
	if err := x.MaybeAppend(200, 5); !errors.Is(err, ErrIndexFull) {
		t.Fatalf("MaybeAppend to full index = %v, want ErrIndexFull", err)
	}
	// A call that would not append anyway is not an error.
	if err := x.MaybeAppend(102, 5); err != nil {
		t.Fatalf("no-op MaybeAppend to full index = %v, want nil", err)
	}
	if x.Len() != 3 {
		t.Fatalf("Len = %d", x.Len())
	}
	if _, err := CreateTimeIndex(x.file.fsys, "/x.timeindex", 0, &Options{MaxBytes: 11}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("MaxBytes 11 = %v, want ErrInvalidArgument", err)
	}
	y, _ := createTimeIndex(t, 0, nil)
	if got, want := y.MaxEntries(), 10<<20/12; got != want {
		t.Fatalf("default MaxEntries = %d, want %d", got, want)
	}
}

func TestTimeIndexRoundTrip(t *testing.T) {
	x, path := createTimeIndex(t, kafkaBase, nil, kafkaTimeEntries...)
	fsys := x.file.fsys
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 1, // 1000 ms, 368770 - 368769
		0, 0, 0, 0, 0, 0, 0x07, 0xd0, 0, 0, 0, 7, // 2000, 368776
		0, 0, 0, 0, 0, 0, 0x0b, 0xb8, 0, 0, 0, 21, // 3000, 368790
	}
	if got := readFile(t, fsys, path); !bytes.Equal(got, want) {
		t.Fatalf("file = %x, want %x", got, want)
	}
	y, err := OpenTimeIndex(fsys, path, kafkaBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkTimeEntries(t, y, kafkaTimeEntries)
	if timestamp, offset, ok := y.LastEntry(); !ok || timestamp != 3000 || offset != 368790 {
		t.Errorf("LastEntry = (%d, %d, %v)", timestamp, offset, ok)
	}
	if y.Base() != kafkaBase || y.Path() != path || y.SizeBytes() != 36 {
		t.Errorf("Base %d Path %q SizeBytes %d", y.Base(), y.Path(), y.SizeBytes())
	}
	if err := y.MaybeAppend(4000, 368800); err != nil {
		t.Fatal(err)
	}
	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	z, err := OpenTimeIndex(fsys, path, kafkaBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkTimeEntries(t, z, append(append([]timePair(nil), kafkaTimeEntries...), timePair{4000, 368800}))
}

func TestTimeIndexFlushWritesOnlyNewEntries(t *testing.T) {
	base, dir := newTestFS(t)
	fsys := &countingFS{FS: base}
	path := filepath.Join(dir, "0.timeindex")
	x, err := CreateTimeIndex(fsys, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(3) {
		if err := x.MaybeAppend(100+i, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.MaybeAppend(200, 10); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if writeAts, _, _ := fsys.counts(); writeAts != 2 {
		t.Fatalf("%d WriteAt calls, want 2", writeAts)
	}
	want := encodeTimeEntries(0, timePair{100, 0}, timePair{101, 1}, timePair{102, 2}, timePair{200, 10})
	if got := readFile(t, base, path); !bytes.Equal(got, want) {
		t.Fatalf("file = %x, want %x", got, want)
	}
}

func TestTimeIndexTruncateTo(t *testing.T) {
	// Offsets may repeat: truncation removes every entry at or above the offset.
	entries := []timePair{{100, 10}, {200, 20}, {300, 20}, {400, 30}}
	tests := []struct {
		offset int64
		want   int
	}{
		{math.MinInt64, 0}, {0, 0}, {10, 0}, {11, 1}, {20, 1}, {21, 3}, {30, 3}, {31, 4},
		{math.MaxInt64, 4},
	}
	for _, tt := range tests {
		x, path := createTimeIndex(t, 10, nil, entries...)
		if err := x.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := x.TruncateTo(tt.offset); err != nil {
			t.Fatal(err)
		}
		checkTimeEntries(t, x, entries[:tt.want])
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if got, want := readFile(t, x.file.fsys, path), encodeTimeEntries(10, entries[:tt.want]...); !bytes.Equal(got, want) {
			t.Fatalf("TruncateTo(%d): file %x, want %x", tt.offset, got, want)
		}
	}
}

func TestTimeIndexResetCloseRemove(t *testing.T) {
	x, path := createTimeIndex(t, kafkaBase, nil, kafkaTimeEntries...)
	fsys := x.file.fsys
	if err := x.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := x.Reset(); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 0 || len(readFile(t, fsys, path)) != 0 {
		t.Fatal("Reset left entries")
	}
	// After Reset any timestamp starts the index again.
	if err := x.MaybeAppend(5, kafkaBase); err != nil {
		t.Fatal(err)
	}
	if err := x.Rename(path + ".swap"); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := x.MaybeAppend(10, kafkaBase+1); !errors.Is(err, ErrClosed) {
		t.Fatalf("MaybeAppend after Close = %v", err)
	}
	if _, offset, ok := x.LookupBefore(6); !ok || offset != kafkaBase {
		t.Fatal("LookupBefore after Close does not answer from memory")
	}
	y, err := OpenTimeIndex(fsys, path+".swap", kafkaBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkTimeEntries(t, y, []timePair{{5, kafkaBase}})
	if err := y.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(path + ".swap"); err == nil {
		t.Fatal("file exists after Remove")
	}
}

func TestTimeIndexStickyWriteError(t *testing.T) {
	fsys, faults, dir := newFaultyFS(t)
	path := filepath.Join(dir, "0.timeindex")
	x, err := CreateTimeIndex(fsys, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(4) {
		if err := x.MaybeAppend(100+i, i); err != nil {
			t.Fatal(err)
		}
	}
	faults.Set(vfs.ShortWriteAfter(0, syscall.ENOSPC))
	if err := x.Sync(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Sync = %v", err)
	}
	faults.Set(nil)
	if err := x.MaybeAppend(500, 10); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("MaybeAppend after failed write = %v", err)
	}
	if err := x.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close = %v", err)
	}
	// The short write left half the entries; Close emptied the file instead.
	if got := readFile(t, fsys, path); len(got) != 0 {
		t.Fatalf("file = %x, want empty", got)
	}
}

// SafeStartBefore answers one entry before LookupBefore, so that one damaged entry
// (its timestamp lowered, its offset raised) cannot move a search past a record it
// must find.
func TestTimeIndexSafeStartBefore(t *testing.T) {
	x, _ := createTimeIndex(t, kafkaBase, nil, kafkaTimeEntries...)
	defer x.Close()
	for _, tt := range []struct {
		ts         int64
		wantOffset int64
		wantOK     bool
	}{
		{999, kafkaBase, false},
		{1001, kafkaBase, false},      // LookupBefore: the first entry; one before it: none
		{2001, 368770, true},          // LookupBefore: the second entry
		{math.MaxInt64, 368776, true}, // LookupBefore: the last entry
	} {
		offset, ok := x.SafeStartBefore(tt.ts)
		if ok != tt.wantOK || offset != tt.wantOffset {
			t.Errorf("SafeStartBefore(%d) = (%d, %v), want (%d, %v)", tt.ts, offset, ok, tt.wantOffset, tt.wantOK)
		}
	}
}
