//go:build linux

package vfs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/vfs"
)

// mapFile opens name on the OS filesystem and maps length bytes of it.
func mapFile(t *testing.T, name string, length int64) *vfs.Mapping {
	t.Helper()
	f, err := vfs.OS.OpenFile(name, os.O_RDONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	m, err := vfs.OS.(vfs.Mapper).MapFile(f, length)
	require.NoError(t, err)
	return m
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// TestMappingWindowGrows checks that a mapping larger than its file shows bytes
// appended to the file afterwards (a segment still being written is mapped once).
func TestMappingWindowGrows(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(name, pattern(1000, 1), 0o644))
	m := mapFile(t, name, 1<<20)
	require.Equal(t, 1<<20, m.Len())
	require.Equal(t, pattern(1000, 1), m.Bytes()[:1000])

	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	more := pattern(10_000, 2)
	_, err = f.Write(more)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, more, m.Bytes()[1000:11_000])

	buf := make([]byte, 10)
	n, err := m.ReadAt(buf, 995)
	require.NoError(t, err)
	require.Equal(t, 10, n)
	require.Equal(t, append(pattern(1000, 1)[995:], more[:5]...), buf)
}

// TestMappingPreserve checks that bytes preserved before the file is truncated keep
// their content, where without Preserve they would read as zeros or fault: a reader
// holding a view of a segment being truncated keeps reading what it was given.
func TestMappingPreserve(t *testing.T) {
	page := os.Getpagesize()
	size := 5*page + 123
	for _, cut := range []int{0, 1, page - 1, page, 2*page + 17, size - 1} {
		name := filepath.Join(t.TempDir(), "f")
		content := pattern(size, byte(cut))
		require.NoError(t, os.WriteFile(name, content, 0o644))
		m := mapFile(t, name, int64(8*page))
		view := m.Bytes()[:size]

		require.NoError(t, m.Preserve(int64(cut), int64(size)), "cut at %d", cut)
		require.NoError(t, os.Truncate(name, int64(cut)))
		// Rewrite the truncated range with other bytes: the view must not show them.
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt(bytes.Repeat([]byte{0xee}, size-cut), int64(cut))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		runtime.GC()
		require.True(t, bytes.Equal(content, view), "cut at %d: the view changed", cut)
		runtime.KeepAlive(m) // the view is valid only while m is held
	}
}

// TestMappingOutlivesFile checks that a held mapping stays readable after its file
// is removed and garbage collections run.
func TestMappingOutlivesFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	content := pattern(3*os.Getpagesize(), 9)
	require.NoError(t, os.WriteFile(name, content, 0o644))
	m := mapFile(t, name, 0)
	require.Equal(t, len(content), m.Len())
	require.NoError(t, os.Remove(name))
	for range 3 {
		runtime.GC()
	}
	require.Equal(t, content, m.Bytes())
	runtime.KeepAlive(m)
}

// TestMappingIsOfTheFile checks that MapFile maps the open file, not whatever file
// has its name by then (compaction renames a cleaned segment over a .log that is still
// open and read).
func TestMappingIsOfTheFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	content := pattern(2*os.Getpagesize(), 3)
	require.NoError(t, os.WriteFile(name, content, 0o644))
	f, err := vfs.OS.OpenFile(name, os.O_RDONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	other := filepath.Join(dir, "other")
	require.NoError(t, os.WriteFile(other, pattern(100, 4), 0o644))
	require.NoError(t, os.Rename(other, name))

	m, err := vfs.OS.(vfs.Mapper).MapFile(f, 0)
	require.NoError(t, err)
	require.Equal(t, content, m.Bytes())
}
