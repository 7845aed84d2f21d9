package segment_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// FuzzRecover feeds arbitrary bytes to recovery as the tail of a .log, in a dense
// segment or one with gaps: it must never panic or hang. Either it keeps every valid
// batch before the first invalid byte and cuts the rest (a torn tail), and the result
// reopens as a flushed segment whose lookups work; or a valid batch follows the first
// invalid byte, which is damage, not a tail: then it fails with ErrCorrupt and changes
// nothing.
func FuzzRecover(f *testing.F) {
	valid, _ := batchOf(f, 2, 3, 0)
	f.Add([]byte{}, false)
	f.Add(valid, true)
	f.Add(valid[:40], false)
	f.Add(append(append([]byte{}, valid...), make([]byte, 100)...), false)
	f.Add([]byte("garbage"), true)
	// A valid batch far above the segment's base: a lookup of every offset up to it
	// once made this test hang.
	far, _ := batchOf(f, 1<<31-10, 3, 0)
	f.Add(far, false)
	f.Add(far, true)
	f.Add(append([]byte("garbage"), valid...), false)
	f.Fuzz(func(t *testing.T, tail []byte, dense bool) {
		fsys := newFS(t)
		writeSegment(t, fsys, 0, 2)
		size := appendBytes(t, fsys, segment.LogPath(dir, 0), tail)
		opts := &segment.Options{MaxBatchBytes: 4096, Dense: dense}
		s, tr, err := segment.Recover(fsys, dir, 0, opts, 0)
		if err != nil {
			require.ErrorIs(t, err, segment.ErrCorrupt)
			data, rerr := vfs.ReadFile(fsys, segment.LogPath(dir, 0))
			require.NoError(t, rerr)
			require.Len(t, data, int(size)+len(tail), "a failed recovery cuts nothing")
			return
		}
		require.GreaterOrEqual(t, s.Size(), size, "the valid prefix survives")
		require.Equal(t, size+int64(len(tail)), s.Size()+tr.Bytes)
		next := s.NextOffset()
		require.NoError(t, s.Seal())
		require.NoError(t, s.Close())

		s, err = segment.Open(fsys, dir, 0, opts)
		require.NoError(t, err)
		defer s.Close()
		require.Equal(t, next, s.NextOffset())
		// Every batch is found from each of its offsets' neighbourhoods: look up the
		// first offsets, the last ones, and each batch's bounds (not every offset:
		// a batch may sit 2^31 offsets above the base).
		check := func(o int64) {
			_, h, found, err := s.Find(o, s.Size())
			require.NoError(t, err)
			if found {
				require.GreaterOrEqual(t, h.LastOffset(), o)
			}
		}
		for o := int64(0); o < min(next, 64); o++ {
			check(o)
		}
		for o := max(0, next-64); o < next; o++ {
			check(o)
		}
	})
}
