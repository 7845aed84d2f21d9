//go:build linux

package segment_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/memtest"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestViewMapsTheOpenFile: a segment first read while small has a 1 MiB window; it
// grows and is sealed, and a later View past the window maps the .log again. During
// compaction's swap (steps 2-3) the .log's name has been unlinked and then taken by
// the cleaned segment's file: mapping by name would map that file and return its
// bytes, or bytes past its end (SIGBUS). The segment maps its open file. Found in
// review.
func TestViewMapsTheOpenFile(t *testing.T) {
	dir := t.TempDir()
	s, err := segment.Create(vfs.OS, dir, 0, nil)
	require.NoError(t, err)
	defer s.Close()
	var positions []int64
	var batches [][]byte
	for i := range 48 { // 48 batches of ~64 KiB: about 3 MiB
		records := make([]segment.Record, 16)
		for j := range records {
			records[j] = segment.Record{Timestamp: 1000, Value: bytes.Repeat([]byte{byte('a' + i%26)}, 4000)}
		}
		b, err := segment.AppendBatch(nil, records, nil)
		require.NoError(t, err)
		segment.SetBaseOffset(b, s.NextOffset())
		h, err := segment.VerifyBatch(b, segment.DefaultMaxBatchBytes)
		require.NoError(t, err)
		positions = append(positions, s.Size())
		batches = append(batches, b)
		require.NoError(t, s.Append(b, &h))
		if i == 0 {
			_, m, ok := s.View(0, len(b)) // first read while small: a 1 MiB window
			require.True(t, ok)
			require.Equal(t, 1<<20, m.Len())
		}
	}
	require.NoError(t, s.Seal())
	require.NoError(t, s.MapForReads())

	// Compaction's swap, steps 2 and 3: the old .log is unlinked (the Segment keeps its
	// fd), and the cleaned segment's file is renamed to the same name.
	require.NoError(t, os.Remove(s.Path()))
	require.NoError(t, os.WriteFile(s.Path(), bytes.Repeat([]byte{0xee}, 8192), 0o644))

	last := len(batches) - 1
	view, m, ok := s.View(positions[last], len(batches[last]))
	require.True(t, ok, "the sealed segment is mapped")
	fault := memtest.Touch(view)
	require.NoError(t, fault, "View returned bytes past the end of the file it mapped")
	require.True(t, bytes.Equal(batches[last], view), "View returned another file's bytes")
	_ = m
}
