package segment_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
)

// FuzzRecover feeds arbitrary bytes to recovery as the tail of a .log: it must never
// panic, must keep every valid batch before the first invalid byte, and the result
// must reopen as a flushed segment whose lookups work.
func FuzzRecover(f *testing.F) {
	valid, _ := batchOf(f, 2, 3, 0)
	f.Add([]byte{})
	f.Add(valid)
	f.Add(valid[:40])
	f.Add(append(append([]byte{}, valid...), make([]byte, 100)...))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		fsys := newFS(t)
		writeSegment(t, fsys, 0, 2)
		size := appendBytes(t, fsys, segment.LogPath(dir, 0), tail)
		s, tr, err := segment.Recover(fsys, dir, 0, &segment.Options{MaxBatchBytes: 4096}, 0)
		require.NoError(t, err)
		require.GreaterOrEqual(t, s.Size(), size, "the valid prefix survives")
		require.Equal(t, size+int64(len(tail)), s.Size()+tr.Bytes)
		next := s.NextOffset()
		require.NoError(t, s.Seal())
		require.NoError(t, s.Close())

		s, err = segment.Open(fsys, dir, 0, &segment.Options{MaxBatchBytes: 4096})
		require.NoError(t, err)
		defer s.Close()
		require.Equal(t, next, s.NextOffset())
		for o := int64(0); o < next; o++ {
			_, h, found, err := s.Find(o, s.Size())
			require.NoError(t, err)
			if found {
				require.GreaterOrEqual(t, h.LastOffset(), o)
			}
		}
	})
}
