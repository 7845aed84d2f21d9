package segment_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
)

// TestCleanedSegmentLifecycle: a segment built under CleanedSuffix, renamed to
// SwapSuffix and then to its final names, opens as a normal segment; ReadNextOffset
// reads the offset after its last batch at every stage.
func TestCleanedSegmentLifecycle(t *testing.T) {
	fsys := newFS(t)
	s, err := segment.CreateWithSuffix(fsys, dir, 100, nil, segment.CleanedSuffix)
	require.NoError(t, err)
	require.Equal(t, segment.LogPath(dir, 100)+segment.CleanedSuffix, s.Path())
	b, h := batchOf(t, 103, 4, 5000) // a gap at the start, as compaction leaves
	require.NoError(t, s.Append(b, &h))
	b, h = batchOf(t, 110, 2, 5010)
	require.NoError(t, s.Append(b, &h))
	require.NoError(t, s.Seal())
	names, err := fsys.ReadDir(dir)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"00000000000000000100.log.cleaned", "00000000000000000100.index.cleaned", "00000000000000000100.timeindex.cleaned"}, names)

	for _, suffix := range []string{segment.SwapSuffix, ""} {
		require.NoError(t, s.RenameFiles(suffix))
		require.Equal(t, suffix, s.Suffix())
		require.Equal(t, segment.LogPath(dir, 100)+suffix, s.Path())
		next, err := segment.ReadNextOffset(fsys, s.Path(), 100, nil)
		require.NoError(t, err)
		require.Equal(t, int64(112), next)
	}
	names, err = fsys.ReadDir(dir)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"00000000000000000100.log", "00000000000000000100.index", "00000000000000000100.timeindex"}, names)
	require.NoError(t, s.Close())

	s, err = segment.Open(fsys, dir, 100, nil)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, int64(112), s.NextOffset())
	_, fh, found, err := s.Find(100, s.Size())
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(103), fh.BaseOffset, "an offset in the gap finds the next batch")
}

// TestReadNextOffsetRefusesDamage: a torn or corrupt .swap is a *CorruptError.
func TestReadNextOffsetRefusesDamage(t *testing.T) {
	fsys := newFS(t)
	writeSegment(t, fsys, 0, 3, 2)
	path := segment.LogPath(dir, 0)
	next, err := segment.ReadNextOffset(fsys, path, 0, nil)
	require.NoError(t, err)
	require.Equal(t, int64(5), next)

	size := appendBytes(t, fsys, path, []byte{0, 0, 0})
	_, err = segment.ReadNextOffset(fsys, path, 0, nil)
	var corrupt *segment.CorruptError
	require.True(t, errors.As(err, &corrupt), "got %v", err)
	require.Equal(t, size, corrupt.Position)

	_, err = segment.ReadNextOffset(fsys, path, 7, nil)
	require.ErrorIs(t, err, segment.ErrCorrupt, "batches below the base offset")
}

// FuzzReadNextOffset feeds arbitrary bytes to ReadNextOffset as the tail of a .swap
// file: it never panics, and returns either the end of the valid batches (when the
// tail is whole batches) or a *CorruptError.
func FuzzReadNextOffset(f *testing.F) {
	valid, _ := batchOf(f, 2, 3, 0)
	f.Add([]byte{})
	f.Add(valid)
	f.Add(valid[:40])
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		fsys := newFS(t)
		writeSegment(t, fsys, 0, 2)
		path := segment.LogPath(dir, 0)
		appendBytes(t, fsys, path, tail)
		next, err := segment.ReadNextOffset(fsys, path, 0, &segment.Options{MaxBatchBytes: 4096})
		if err != nil {
			require.ErrorIs(t, err, segment.ErrCorrupt)
			return
		}
		require.GreaterOrEqual(t, next, int64(2))
	})
}
