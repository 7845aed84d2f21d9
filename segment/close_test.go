package segment_test

import (
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
)

// An index file that cannot be created while Open or Recover rebuilds the indexes
// (its path is a directory, or descriptors run out) is an error, never a panic: the
// segment's cleanup must cope with indexes that were never opened.
func TestRebuildIndexCreateFailureIsAnError(t *testing.T) {
	for _, name := range []string{"index", "timeindex"} {
		for _, recover := range []bool{false, true} {
			fsys := newFS(t)
			s, err := segment.Create(fsys, dir, 0, nil)
			require.NoError(t, err)
			fill(t, s, 3, 4)
			require.NoError(t, s.Close())
			path := segment.IndexPath(dir, 0)
			if name == "timeindex" {
				path = segment.TimeIndexPath(dir, 0)
			}
			require.NoError(t, fsys.Remove(path))
			require.NoError(t, fsys.MkdirAll(path, 0o755)) // a directory where the index belongs
			if recover {
				_, _, err = segment.Recover(fsys, dir, 0, nil, math.MaxInt64)
			} else {
				_, err = segment.Open(fsys, dir, 0, nil)
			}
			require.Error(t, err, "%s recover=%v", name, recover)
		}
	}
}

// An .index entry other than the last is not checked at Open (the index has no
// checksum): one that points into the middle of a batch must not make a lookup fail
// naming the .log, whose bytes are fine; the lookup scans from the segment's start.
func TestFindSurvivesDamagedIndexEntry(t *testing.T) {
	fsys := newFS(t)
	writeSegment(t, fsys, 0, 3, 4, 3, 5, 2, 4, 3)
	f, err := fsys.OpenFile(segment.IndexPath(dir, 0), os.O_RDWR, 0)
	require.NoError(t, err)
	size, err := f.Size()
	require.NoError(t, err)
	require.GreaterOrEqual(t, size, int64(16), "at least two entries")
	_, err = f.WriteAt([]byte{0, 0, 0, 7}, 4) // the first entry's position: inside a batch
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s, err := segment.Open(fsys, dir, 0, &segment.Options{IndexIntervalBytes: 64, Dense: true})
	require.NoError(t, err)
	defer s.Close()
	for o := int64(0); o < s.NextOffset(); o++ {
		_, h, found, err := s.Find(o, s.Size())
		require.NoError(t, err, "offset %d", o)
		require.True(t, found)
		require.LessOrEqual(t, h.BaseOffset, o)
		require.GreaterOrEqual(t, h.LastOffset(), o)
	}
}
