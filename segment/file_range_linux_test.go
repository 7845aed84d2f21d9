//go:build linux

package segment_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// sendAll sends r from from on through a socket pair with SendTo and returns
// what came out of the other end.
func sendAll(t *testing.T, r *segment.FileRange, from int) ([]byte, error) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	defer syscall.Close(fds[1])
	for from < r.Len() {
		n, err := r.SendTo(fds[0], from)
		if err != nil {
			syscall.Close(fds[0])
			return nil, err
		}
		from += n
	}
	require.NoError(t, syscall.Close(fds[0]))
	got := make([]byte, 0, r.Len())
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fds[1], buf)
		require.NoError(t, err)
		if n == 0 {
			return got, nil
		}
		got = append(got, buf[:n]...)
	}
}

// TestFileRangeSendsTheFileBytes checks that a range sends exactly the bytes at
// its position, whole or from a later byte on, and after the segment is closed
// and removed (retention, compaction's swap).
func TestFileRangeSendsTheFileBytes(t *testing.T) {
	s, err := segment.Create(vfs.OS, t.TempDir(), 0, nil)
	require.NoError(t, err)
	positions := fill(t, s, 3, 5, 2, 7)
	n := int(s.Size() - positions[1])
	want := make([]byte, n)
	_, err = s.ReadAt(want, positions[1])
	require.NoError(t, err)

	r, ok := s.FileRange(positions[1], n)
	require.True(t, ok)
	defer r.Close()
	require.Equal(t, positions[1], r.Pos())
	require.Equal(t, n, r.Len())
	got, err := sendAll(t, r, 0)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = sendAll(t, r, 10)
	require.NoError(t, err)
	require.Equal(t, want[10:], got)

	require.NoError(t, s.Remove())
	got, err = sendAll(t, r, 0)
	require.NoError(t, err)
	require.Equal(t, want, got, "the range's descriptor keeps the removed file's bytes")
	_, ok = s.FileRange(0, 1)
	require.False(t, ok, "a closed segment lends nothing")
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "idempotent")
	_, err = r.SendTo(0, 0)
	require.ErrorIs(t, err, os.ErrClosed)
}

// TestFileRangeRefusesToSendAfterTruncation checks that a range made before
// TruncateTo sends nothing from the file after it (the file's bytes at its
// positions may be new ones), while the View of the same bytes still holds them,
// and that a range made after sends the new bytes.
func TestFileRangeRefusesToSendAfterTruncation(t *testing.T) {
	s, err := segment.Create(vfs.OS, t.TempDir(), 0, nil)
	require.NoError(t, err)
	defer s.Close()
	positions := fill(t, s, 3, 5, 2)
	n := int(s.Size() - positions[1])
	view, m, ok := s.View(positions[1], n)
	require.True(t, ok)
	old := append([]byte(nil), view...)
	r, ok := s.FileRange(positions[1], n)
	require.True(t, ok)
	defer r.Close()
	half, err := sendAll(t, r, n/2)
	require.NoError(t, err)
	require.Equal(t, old[n/2:], half)

	require.NoError(t, s.TruncateTo(3))
	fill(t, s, 6, 1) // other batches at the same positions
	_, err = r.SendTo(0, 0)
	require.ErrorIs(t, err, segment.ErrFileChanged)
	require.Equal(t, old, view, "the view keeps the bytes the range named")
	_ = m

	newBytes := make([]byte, s.Size()-positions[1])
	_, err = s.ReadAt(newBytes, positions[1])
	require.NoError(t, err)
	require.NotEqual(t, old, newBytes[:min(len(old), len(newBytes))])
	again, ok := s.FileRange(positions[1], len(newBytes))
	require.True(t, ok)
	defer again.Close()
	got, err := sendAll(t, again, 0)
	require.NoError(t, err)
	require.Equal(t, newBytes, got)
}

// TestFileRangeNeedsADescriptor checks that a filesystem without
// vfs.Duplicator, and a range past the segment's end, lend no range.
func TestFileRangeNeedsADescriptor(t *testing.T) {
	s, err := segment.Create(newFS(t), dir, 0, nil)
	require.NoError(t, err)
	defer s.Close()
	fill(t, s, 3)
	_, ok := s.FileRange(0, int(s.Size()))
	require.False(t, ok)
	onDisk, err := segment.Create(vfs.OS, t.TempDir(), 0, nil)
	require.NoError(t, err)
	defer onDisk.Close()
	fill(t, onDisk, 3)
	_, ok = onDisk.FileRange(0, int(onDisk.Size())+1)
	require.False(t, ok)
	_, ok = onDisk.FileRange(-1, 1)
	require.False(t, ok)
}
