package segment_test

import (
	"math"
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
