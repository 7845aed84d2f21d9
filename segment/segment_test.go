package segment_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

const dir = "/seg"

// newFS returns a memory filesystem with dir created.
func newFS(t testing.TB) *vfs.MemFS {
	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll(dir, 0o755))
	return fsys
}

// batchOf encodes n records whose values name their offsets, stamped at base.
func batchOf(t testing.TB, base int64, n int, ts int64) ([]byte, segment.BatchHeader) {
	t.Helper()
	records := make([]segment.Record, n)
	for i := range records {
		records[i] = segment.Record{Timestamp: ts + int64(i), Value: []byte(fmt.Sprintf("v%d", base+int64(i)))}
	}
	b, err := segment.AppendBatch(nil, records, nil)
	require.NoError(t, err)
	segment.SetBaseOffset(b, base)
	h, err := segment.VerifyBatch(b, segment.DefaultMaxBatchBytes)
	require.NoError(t, err)
	return b, h
}

// fill appends batches of sizes counts to s starting at its next offset and returns
// the position of each batch.
func fill(t testing.TB, s *segment.Segment, counts ...int) []int64 {
	t.Helper()
	var positions []int64
	for _, n := range counts {
		positions = append(positions, s.Size())
		b, h := batchOf(t, s.NextOffset(), n, 1000+s.NextOffset())
		require.NoError(t, s.Append(b, &h))
	}
	return positions
}

// TestFindBoundaries checks the lookup of every offset of a segment named like the
// seed's second file, with an index entry every few batches: each offset lands in the
// batch holding it, starting from an index entry at or below it.
func TestFindBoundaries(t *testing.T) {
	fsys := newFS(t)
	const base = 368769
	s, err := segment.Create(fsys, dir, base, &segment.Options{IndexIntervalBytes: 200})
	require.NoError(t, err)
	defer s.Close()
	counts := []int{1, 7, 3, 1, 1, 20, 2, 5, 1, 9, 4, 1}
	positions := fill(t, s, counts...)
	offsets, _ := s.IndexEntries()
	require.Greater(t, offsets, 2, "the test needs several index entries")

	batchBase := int64(base)
	for i, n := range counts {
		for o := batchBase; o < batchBase+int64(n); o++ {
			pos, h, found, err := s.Find(o, s.Size())
			require.NoError(t, err)
			require.True(t, found, "offset %d", o)
			require.Equal(t, positions[i], pos, "offset %d", o)
			require.Equal(t, batchBase, h.BaseOffset)
			require.LessOrEqual(t, s.IndexFloor(o), o)
		}
		batchBase += int64(n)
	}
	// Below the base: the first batch. At or past the end: nothing.
	pos, _, found, err := s.Find(base-1, s.Size())
	require.NoError(t, err)
	require.True(t, found)
	require.Zero(t, pos)
	_, _, found, err = s.Find(batchBase, s.Size())
	require.NoError(t, err)
	require.False(t, found)
	// A bound below the last batch hides it.
	_, _, found, err = s.Find(batchBase-1, positions[len(positions)-1])
	require.NoError(t, err)
	require.False(t, found)
}

func TestNames(t *testing.T) {
	require.Equal(t, "00000000000000368769.log", segment.FileName(368769, segment.LogSuffix))
	base, suffix, ok := segment.ParseFileName("00000000000000737337.timeindex")
	require.True(t, ok)
	require.Equal(t, int64(737337), base)
	require.Equal(t, ".timeindex", suffix)
	for _, bad := range []string{"0000000000000073733.log", "0000000000000073733x.log", "00000000000000737337log", ""} {
		_, _, ok := segment.ParseFileName(bad)
		require.False(t, ok, bad)
	}
}

func TestFindTimestamp(t *testing.T) {
	fsys := newFS(t)
	s, err := segment.Create(fsys, dir, 0, &segment.Options{IndexIntervalBytes: 100})
	require.NoError(t, err)
	defer s.Close()
	for i := range int64(50) {
		b, h := batchOf(t, i*2, 2, 10*i) // timestamps 10i, 10i+1 at offsets 2i, 2i+1
		require.NoError(t, s.Append(b, &h))
	}
	for _, tc := range []struct {
		ts, want int64
		found    bool
	}{
		{-5, 0, true}, {0, 0, true}, {1, 1, true}, {2, 2, true}, {10, 2, true},
		{11, 3, true}, {12, 4, true}, {491, 99, true}, {492, 0, false},
	} {
		off, found, err := s.FindTimestamp(tc.ts, 0, s.Size())
		require.NoError(t, err)
		require.Equal(t, tc.found, found, "ts %d", tc.ts)
		if tc.found {
			require.Equal(t, tc.want, off, "ts %d", tc.ts)
		}
	}
	off, found, err := s.FindTimestamp(0, 7, s.Size())
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(7), off, "from bounds the answer below")
}

func TestAppendRejects(t *testing.T) {
	fsys := newFS(t)
	s, err := segment.Create(fsys, dir, 100, nil)
	require.NoError(t, err)
	b, h := batchOf(t, 99, 1, 0)
	require.Error(t, s.Append(b, &h), "below the base offset")
	b, h = batchOf(t, 100+math.MaxInt32+1, 1, 0)
	require.ErrorIs(t, s.Append(b, &h), segment.ErrFull)
	require.Zero(t, s.Size())
	require.NoError(t, s.Close())
	b, h = batchOf(t, 100, 1, 0)
	require.Error(t, s.Append(b, &h))
}

// writeSegment creates a segment with batches of the given sizes, seals and closes it.
func writeSegment(t testing.TB, fsys vfs.FS, base int64, counts ...int) []int64 {
	t.Helper()
	s, err := segment.Create(fsys, dir, base, &segment.Options{IndexIntervalBytes: 64})
	require.NoError(t, err)
	positions := fill(t, s, counts...)
	require.NoError(t, s.Seal())
	require.NoError(t, s.Close())
	return positions
}

func appendBytes(t testing.TB, fsys vfs.FS, path string, data []byte) int64 {
	t.Helper()
	f, err := fsys.OpenFile(path, 2 /* O_RDWR */, 0)
	require.NoError(t, err)
	defer f.Close()
	size, err := f.Size()
	require.NoError(t, err)
	_, err = f.WriteAt(data, size)
	require.NoError(t, err)
	return size
}

// TestRecoverTornTail: garbage, zeros, a torn half batch and a bad CRC at the tail
// are cut at the first invalid byte, the cut is reported, and the indexes match.
func TestRecoverTornTail(t *testing.T) {
	half, _ := batchOf(t, 10, 5, 0)
	badCRC, _ := batchOf(t, 10, 5, 0)
	badCRC[len(badCRC)-1] ^= 0xff
	for name, tail := range map[string][]byte{
		"garbage":  []byte("this is not a record batch, just garbage bytes that follow the log........."),
		"zeros":    make([]byte, 4096),
		"half":     half[:len(half)/2],
		"header":   half[:30],
		"bad-crc":  badCRC,
		"one-byte": {0x00},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := newFS(t)
			writeSegment(t, fsys, 0, 3, 4, 3)
			end := appendBytes(t, fsys, segment.LogPath(dir, 0), tail)

			s, tr, err := segment.Recover(fsys, dir, 0, nil, 0)
			require.NoError(t, err)
			defer s.Close()
			require.Equal(t, end, tr.Position)
			require.Equal(t, int64(len(tail)), tr.Bytes)
			require.NotEmpty(t, tr.Reason)
			require.Equal(t, end, s.Size())
			require.Equal(t, int64(10), s.NextOffset())
			for o := range int64(10) {
				_, h, found, err := s.Find(o, s.Size())
				require.NoError(t, err)
				require.True(t, found)
				require.LessOrEqual(t, h.BaseOffset, o)
			}
			// Appending after recovery continues at the cut.
			fill(t, s, 2)
			require.Equal(t, int64(12), s.NextOffset())
		})
	}
}

// TestRecoverRefusesFlushedCorruption: an invalid batch below the flushed offset is
// reported with file and position, not truncated.
func TestRecoverRefusesFlushedCorruption(t *testing.T) {
	fsys := newFS(t)
	positions := writeSegment(t, fsys, 0, 3, 4, 3)
	f, err := fsys.OpenFile(segment.LogPath(dir, 0), 2, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xAA}, positions[1]+70) // inside the second batch's records
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, _, err = segment.Recover(fsys, dir, 0, nil, 5)
	require.ErrorIs(t, err, segment.ErrCorrupt)
	var ce *segment.CorruptError
	require.True(t, errors.As(err, &ce))
	require.Equal(t, segment.LogPath(dir, 0), ce.Path)
	require.Equal(t, positions[1], ce.Position)

	// Open (a trusted, flushed segment) rebuilds nothing silently either: the index
	// still matches, so Open succeeds, and the CRC failure surfaces on read. With the
	// index gone, the rebuild verifies CRCs and refuses.
	require.NoError(t, fsys.Remove(segment.IndexPath(dir, 0)))
	_, err = segment.Open(fsys, dir, 0, nil)
	require.ErrorIs(t, err, segment.ErrCorrupt)

	// Past the flushed offset the same bytes are no torn tail either while a valid
	// batch follows them: a torn write can only be at the end.
	_, _, err = segment.Recover(fsys, dir, 0, nil, 3)
	require.ErrorIs(t, err, segment.ErrCorrupt)
	require.ErrorContains(t, err, "a valid batch follows")

	// Once it is the last batch, they may be one: cut, and reported as a whole batch
	// that failed its CRC (which a flipped bit in the last fsynced batch also gives).
	f, err = fsys.OpenFile(segment.LogPath(dir, 0), 2, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(positions[2]))
	require.NoError(t, f.Close())
	s, tr, err := segment.Recover(fsys, dir, 0, nil, 3)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, positions[1], tr.Position)
	require.True(t, tr.Whole)
	require.Equal(t, int64(3), s.NextOffset())
}

// TestRecoverTellsTornTailFromDamage: past the flushed offset, an invalid batch is a
// torn tail only if nothing valid follows it. Garbage or zeros after a partial batch
// (what a torn write leaves) are cut; a damaged batch with valid batches after it,
// anywhere, is corruption.
func TestRecoverTellsTornTailFromDamage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(f vfs.File, positions []int64, size int64)
		corrupt bool
		whole   bool
	}{
		{"partial last batch", func(f vfs.File, p []int64, size int64) { require.NoError(t, f.Truncate(size-7)) }, false, false},
		{"zeros over the last batch", func(f vfs.File, p []int64, size int64) {
			_, err := f.WriteAt(make([]byte, size-p[3]), p[3])
			require.NoError(t, err)
		}, false, false},
		{"garbage after the last batch", func(f vfs.File, p []int64, size int64) {
			_, err := f.WriteAt([]byte("garbage of a torn write, 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), size)
			require.NoError(t, err)
		}, false, false},
		{"flipped bit in the last batch", func(f vfs.File, p []int64, size int64) { flipByte(t, f, p[3]+40) }, false, true},
		{"flipped bit in the first batch", func(f vfs.File, p []int64, size int64) { flipByte(t, f, p[0]+40) }, true, false},
		{"flipped bit in a middle batch's length", func(f vfs.File, p []int64, size int64) { flipByte(t, f, p[2]+11) }, true, false},
		{"flipped magic of a middle batch", func(f vfs.File, p []int64, size int64) { flipByte(t, f, p[1]+16) }, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := newFS(t)
			positions := writeSegment(t, fsys, 0, 3, 4, 3, 5)
			f, err := fsys.OpenFile(segment.LogPath(dir, 0), 2, 0)
			require.NoError(t, err)
			size, err := f.Size()
			require.NoError(t, err)
			tc.damage(f, positions, size)
			require.NoError(t, f.Close())
			s, tr, err := segment.Recover(fsys, dir, 0, nil, 0)
			if tc.corrupt {
				require.ErrorIs(t, err, segment.ErrCorrupt)
				return
			}
			require.NoError(t, err)
			defer s.Close()
			require.Positive(t, tr.Bytes)
			require.Equal(t, tc.whole, tr.Whole)
		})
	}
}

func flipByte(t *testing.T, f vfs.File, pos int64) {
	t.Helper()
	b := make([]byte, 1)
	_, err := f.ReadAt(b, pos)
	require.NoError(t, err)
	b[0] ^= 0x10
	_, err = f.WriteAt(b, pos)
	require.NoError(t, err)
}

// TestOpenRebuildsIndexes: a missing, short, garbage or zero-padded index is
// detected and rebuilt; lookups stay right.
func TestOpenRebuildsIndexes(t *testing.T) {
	for name, damage := range map[string]func(fsys vfs.FS){
		"deleted-index":     func(fsys vfs.FS) { require.NoError(t, fsys.Remove(segment.IndexPath(dir, 0))) },
		"deleted-timeindex": func(fsys vfs.FS) { require.NoError(t, fsys.Remove(segment.TimeIndexPath(dir, 0))) },
		"partial-entry": func(fsys vfs.FS) {
			f, err := fsys.OpenFile(segment.IndexPath(dir, 0), 2, 0)
			require.NoError(t, err)
			size, _ := f.Size()
			require.NoError(t, f.Truncate(size-3))
			require.NoError(t, f.Close())
		},
		"truncated-to-one-entry": func(fsys vfs.FS) {
			f, err := fsys.OpenFile(segment.IndexPath(dir, 0), 2, 0)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(8))
			require.NoError(t, f.Close())
		},
		"garbage": func(fsys vfs.FS) {
			f, err := fsys.OpenFile(segment.IndexPath(dir, 0), 2, 0)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("garbage garbage garbage!"), 0)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		},
		"zero-padded":      func(fsys vfs.FS) { appendBytes(t, fsys, segment.IndexPath(dir, 0), make([]byte, 10240)) },
		"zero-padded-time": func(fsys vfs.FS) { appendBytes(t, fsys, segment.TimeIndexPath(dir, 0), make([]byte, 10236)) },
	} {
		t.Run(name, func(t *testing.T) {
			fsys := newFS(t)
			counts := []int{3, 4, 3, 5, 1, 1, 8, 2}
			positions := writeSegment(t, fsys, 0, counts...)
			damage(fsys)
			s, err := segment.Open(fsys, dir, 0, &segment.Options{IndexIntervalBytes: 64})
			require.NoError(t, err)
			defer s.Close()
			base := int64(0)
			for i, n := range counts {
				for o := base; o < base+int64(n); o++ {
					pos, _, found, err := s.Find(o, s.Size())
					require.NoError(t, err)
					require.True(t, found)
					require.Equal(t, positions[i], pos, "offset %d", o)
				}
				base += int64(n)
			}
			require.Equal(t, base, s.NextOffset())
			off, found, err := s.FindTimestamp(1000+base-1, 0, s.Size())
			require.NoError(t, err)
			require.True(t, found)
			require.Equal(t, base-1, off)
		})
	}
}

// TestOpenFlushedTornTailIsCorrupt: bytes after the last batch of a segment opened
// as flushed are corruption, never silently cut.
func TestOpenFlushedTornTailIsCorrupt(t *testing.T) {
	fsys := newFS(t)
	writeSegment(t, fsys, 0, 3, 4)
	end := appendBytes(t, fsys, segment.LogPath(dir, 0), []byte("garbage tail"))
	_, err := segment.Open(fsys, dir, 0, nil)
	var ce *segment.CorruptError
	require.True(t, errors.As(err, &ce), "got %v", err)
	require.Equal(t, end, ce.Position)
}

// TestHugeLengthNotAllocated: a corrupt length of 369296128 (Kafka's 'Invalid
// receive' example) is refused before anything is allocated.
func TestHugeLengthNotAllocated(t *testing.T) {
	fsys := newFS(t)
	writeSegment(t, fsys, 0, 2)
	b, _ := batchOf(t, 2, 1, 0)
	b[8], b[9], b[10], b[11] = 0x16, 0x03, 0x01, 0x00 // batchLength 369295616: a TLS handshake
	end := appendBytes(t, fsys, segment.LogPath(dir, 0), b)
	allocs := testing.AllocsPerRun(1, func() {
		s, tr, err := segment.Recover(fsys, dir, 0, nil, 0)
		require.NoError(t, err)
		require.Equal(t, end, tr.Position)
		s.Close()
		appendBytes(t, fsys, segment.LogPath(dir, 0), b)
	})
	require.Less(t, allocs, 200.0)
}

func TestTruncateTo(t *testing.T) {
	fsys := newFS(t)
	s, err := segment.Create(fsys, dir, 0, &segment.Options{IndexIntervalBytes: 64})
	require.NoError(t, err)
	defer s.Close()
	positions := fill(t, s, 3, 4, 3, 5) // batches 0-2, 3-6, 7-9, 10-14
	require.NoError(t, s.TruncateTo(8)) // 8 is inside 7-9: that batch goes whole
	require.Equal(t, int64(7), s.NextOffset())
	require.Equal(t, positions[2], s.Size())
	_, _, found, err := s.Find(7, s.Size())
	require.NoError(t, err)
	require.False(t, found)
	fill(t, s, 2)
	require.Equal(t, int64(9), s.NextOffset())
	require.NoError(t, s.TruncateTo(0))
	require.Zero(t, s.Size())
	require.Equal(t, int64(0), s.NextOffset())
}

// With LazySync (writes acknowledged before their fsync), a hole before a valid batch
// past the flushed offset may be pages the OS wrote out of order: it is cut, and
// reported as reordered, instead of being an error.
func TestRecoverLazySyncCutsReorderedTail(t *testing.T) {
	fsys := newFS(t)
	positions := writeSegment(t, fsys, 0, 3, 4, 3, 5)
	f, err := fsys.OpenFile(segment.LogPath(dir, 0), 2, 0)
	require.NoError(t, err)
	flipByte(t, f, positions[1]+40)
	require.NoError(t, f.Close())
	_, _, err = segment.Recover(fsys, dir, 0, nil, 0)
	require.ErrorIs(t, err, segment.ErrCorrupt)
	s, tr, err := segment.Recover(fsys, dir, 0, &segment.Options{LazySync: true}, 0)
	require.NoError(t, err)
	defer s.Close()
	require.True(t, tr.Reordered)
	require.Equal(t, positions[1], tr.Position)
	require.Equal(t, int64(3), s.NextOffset())
}
