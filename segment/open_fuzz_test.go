package segment_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
)

// FuzzParseFileName: any name parses without panicking, and a name it accepts is
// the canonical one for its base offset and suffix (so that two names never mean one
// segment file).
func FuzzParseFileName(f *testing.F) {
	for _, name := range []string{"00000000000000368769.log", "00000000000000000000.index", "00000000000000000000.log.swap",
		"99999999999999999999.log", "0000000000000000000a.log", "00000000000000000000", "-0000000000000000001.log", "orders-0"} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		base, suffix, ok := segment.ParseFileName(name)
		if !ok {
			return
		}
		require.GreaterOrEqual(t, base, int64(0))
		require.Equal(t, name, segment.FileName(base, suffix))
	})
}

// FuzzOpenSegment opens a segment whose .log was patched and whose index files were
// replaced by arbitrary bytes, as a flushed segment (Open) or one to recover: never a
// panic; an opened segment answers lookups and Verify without one.
func FuzzOpenSegment(f *testing.F) {
	f.Add(uint16(0), []byte{}, []byte{}, []byte{}, false, true)
	f.Add(uint16(8), []byte{0xff}, []byte{0, 0, 0, 1, 0, 0, 0, 70}, []byte{}, true, false)
	f.Add(uint16(100), []byte("garbage"), make([]byte, 24), make([]byte, 36), false, false)
	f.Fuzz(func(t *testing.T, at uint16, patch, offsetIndex, timeIndex []byte, dense, recover bool) {
		fsys := newFS(t)
		positions := writeSegment(t, fsys, 0, 3, 4, 3, 5, 2)
		log, err := fsys.OpenFile(segment.LogPath(dir, 0), os.O_RDWR, 0)
		require.NoError(t, err)
		size, err := log.Size()
		require.NoError(t, err)
		if len(patch) > 0 {
			_, err = log.WriteAt(patch, int64(at)%(size+1))
			require.NoError(t, err)
		}
		require.NoError(t, log.Close())
		for path, data := range map[string][]byte{segment.IndexPath(dir, 0): offsetIndex, segment.TimeIndexPath(dir, 0): timeIndex} {
			if len(data) == 0 {
				continue // keep the real index
			}
			f, err := fsys.OpenFile(path, os.O_RDWR|os.O_TRUNC, 0)
			require.NoError(t, err)
			_, err = f.WriteAt(data, 0)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}
		opts := &segment.Options{MaxBatchBytes: 4096, IndexIntervalBytes: 64, Dense: dense}
		var s *segment.Segment
		if recover {
			s, _, err = segment.Recover(fsys, dir, 0, opts, positions[2])
		} else {
			s, err = segment.Open(fsys, dir, 0, opts)
		}
		if err != nil {
			return
		}
		defer s.Close()
		for o := int64(0); o < min(s.NextOffset(), 64); o++ {
			_, h, found, err := s.Find(o, s.Size())
			if err == nil && found {
				require.GreaterOrEqual(t, h.LastOffset(), o)
			}
		}
		_ = s.Verify(s.Size())
	})
}
