package index

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stratalog/strata/internal/errs"
)

// fuzzMaxBytes keeps fuzzed files small and lets the fuzzer reach the "too big" check.
const fuzzMaxBytes = 1024

// FuzzOpenOffsetIndex opens arbitrary bytes as a .index file: no panic; an error is a
// CorruptError that leaves the file alone; a success holds exactly the file's entries,
// strictly increasing, with positions below logSize.
func FuzzOpenOffsetIndex(f *testing.F) {
	f.Add(encodeOffsetEntries(368769, kafkaEntries...), int64(8193))
	f.Add([]byte{}, int64(-1))
	f.Add(zeros(8), int64(0))
	f.Add(concat(encodeOffsetEntries(0, offsetPair{1, 0}, offsetPair{5, 4096}), zeros(64)), int64(-1))
	f.Add(zeros(fuzzMaxBytes+8), int64(-1))
	f.Fuzz(func(t *testing.T, data []byte, logSize int64) {
		const base = 1 << 40
		fsys, dir := newTestFS(t)
		path := filepath.Join(dir, "fuzz.index")
		writeFile(t, fsys, path, data)
		x, err := OpenOffsetIndex(fsys, path, base, logSize, &Options{MaxBytes: fuzzMaxBytes})
		if err != nil {
			var corrupt *errs.CorruptError
			if !errors.As(err, &corrupt) || corrupt.Path != path || corrupt.Position < 0 || corrupt.Position > int64(len(data)) {
				t.Fatalf("error %v is not a CorruptError within the file", err)
			}
			if !bytes.Equal(readFile(t, fsys, path), data) {
				t.Fatal("a rejected file was modified")
			}
			return
		}
		if x.Len()*OffsetEntrySize != len(data) {
			t.Fatalf("%d entries from %d bytes", x.Len(), len(data))
		}
		for i := range x.Len() {
			offset, position := x.Entry(i)
			if logSize >= 0 && position >= logSize {
				t.Fatalf("entry %d position %d >= log size %d", i, position, logSize)
			}
			if i > 0 {
				previousOffset, previousPosition := x.Entry(i - 1)
				if offset <= previousOffset || position <= previousPosition {
					t.Fatalf("entry %d (%d, %d) does not rise above (%d, %d)", i, offset, position, previousOffset, previousPosition)
				}
			}
			if o, p := x.Lookup(offset); o != offset || p != position {
				t.Fatalf("Lookup(%d) = (%d, %d), want entry %d", offset, o, p, i)
			}
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, fsys, path), data) {
			t.Fatal("open and close changed a valid file")
		}
	})
}

// FuzzOpenTimeIndex opens arbitrary bytes as a .timeindex file: no panic; an error is
// a CorruptError that leaves the file alone; a success holds exactly the file's
// entries, timestamps strictly increasing and offsets non-decreasing.
func FuzzOpenTimeIndex(f *testing.F) {
	f.Add(encodeTimeEntries(368769, kafkaTimeEntries...))
	f.Add([]byte{})
	f.Add(zeros(12))
	f.Add(concat(encodeTimeEntries(0, timePair{100, 1}, timePair{200, 1}), zeros(60)))
	f.Add(zeros(fuzzMaxBytes + 12))
	f.Fuzz(func(t *testing.T, data []byte) {
		const base = 1 << 40
		fsys, dir := newTestFS(t)
		path := filepath.Join(dir, "fuzz.timeindex")
		writeFile(t, fsys, path, data)
		x, err := OpenTimeIndex(fsys, path, base, &Options{MaxBytes: fuzzMaxBytes})
		if err != nil {
			var corrupt *errs.CorruptError
			if !errors.As(err, &corrupt) || corrupt.Path != path || corrupt.Position < 0 || corrupt.Position > int64(len(data)) {
				t.Fatalf("error %v is not a CorruptError within the file", err)
			}
			if !bytes.Equal(readFile(t, fsys, path), data) {
				t.Fatal("a rejected file was modified")
			}
			return
		}
		if x.Len()*TimeEntrySize != len(data) {
			t.Fatalf("%d entries from %d bytes", x.Len(), len(data))
		}
		for i := range x.Len() {
			timestamp, offset := x.Entry(i)
			if offset < base {
				t.Fatalf("entry %d offset %d below base", i, offset)
			}
			if i > 0 {
				previousTimestamp, previousOffset := x.Entry(i - 1)
				if timestamp <= previousTimestamp || offset < previousOffset {
					t.Fatalf("entry %d (%d, %d) out of order after (%d, %d)", i, timestamp, offset, previousTimestamp, previousOffset)
				}
			}
			if i+1 < x.Len() {
				nextTimestamp, _ := x.Entry(i + 1)
				if ts, o, ok := x.LookupBefore(nextTimestamp); !ok || ts != timestamp || o != offset {
					t.Fatalf("LookupBefore(%d) = (%d, %d, %v), want entry %d", nextTimestamp, ts, o, ok, i)
				}
			}
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, fsys, path), data) {
			t.Fatal("open and close changed a valid file")
		}
	})
}
