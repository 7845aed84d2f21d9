//go:build linux

package vfs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/memtest"
)

// TestPreserveTwiceAcrossGrowth: a window mapping (16 pages) of a file of 2.5
// pages is preserved from 1.2 pages and the file cut there; the file then grows to 6.3
// pages (new bytes), and the same mapping is preserved again, from 0.5 pages (below
// the first cut: partly file pages, partly the first copies, partly file pages that
// were past the old end when first mapped) and the file cut again. The bytes a
// reader was given (the first 2.5 pages) must never change or fault, and copying the
// page holding the end (6.3 pages) must not fault either.
func TestPreserveTwiceAcrossGrowth(t *testing.T) {
	page := os.Getpagesize()
	name := filepath.Join(t.TempDir(), "f")
	first := pattern(2*page+page/2, 1)
	require.NoError(t, os.WriteFile(name, first, 0o644))
	m := mapFile(t, name, int64(16*page))
	view := m.Bytes()[:len(first)]

	cut1 := page + page/5
	require.NoError(t, m.Preserve(int64(cut1), int64(len(first))))
	require.NoError(t, os.Truncate(name, int64(cut1)))
	grown := pattern(6*page+page/3-cut1, 2)
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(grown, int64(cut1))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	size2 := cut1 + len(grown)
	require.NoError(t, memtest.Touch(view))
	require.True(t, bytes.Equal(first, view), "changed after the first cut and regrowth")

	cut2 := page / 2
	require.NoError(t, m.Preserve(int64(cut2), int64(size2)))
	require.NoError(t, os.Truncate(name, int64(cut2)))
	f, err = os.OpenFile(name, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(bytes.Repeat([]byte{0xee}, 8*page), int64(cut2))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	runtime.GC()
	require.NoError(t, memtest.Touch(view))
	require.True(t, bytes.Equal(first, view), "changed after the second cut")
	// Up to the page holding size2 the mapping is private now: readable, and past the
	// first cut it shows what the file held at the second Preserve (the first copy's
	// bytes where they were copied, the grown bytes from page 3 on).
	all := m.Bytes()[:7*page]
	require.NoError(t, memtest.Touch(all))
	require.True(t, bytes.Equal(grown[3*page-cut1:], all[3*page:size2]))
	runtime.KeepAlive(m)
}

// TestPreserveExactAndShort: an exact mapping whose length is not a page
// multiple (a sealed segment) is preserved up to its end (the copy reads the rest of
// its last page), and a mapping shorter than the cut is left alone.
func TestPreserveExactAndShort(t *testing.T) {
	page := os.Getpagesize()
	name := filepath.Join(t.TempDir(), "f")
	content := pattern(3*page+77, 5)
	require.NoError(t, os.WriteFile(name, content, 0o644))
	exact := mapFile(t, name, 0)
	short := mapFile(t, name, int64(page+10))
	require.Equal(t, len(content), exact.Len())

	cut := 2*page + 5
	require.NoError(t, exact.Preserve(int64(cut), int64(len(content))))
	require.NoError(t, short.Preserve(int64(cut), int64(len(content))))
	require.NoError(t, os.Truncate(name, int64(cut)))
	require.NoError(t, memtest.Touch(exact.Bytes()))
	require.True(t, bytes.Equal(content, exact.Bytes()))
	require.NoError(t, memtest.Touch(short.Bytes()))
	require.True(t, bytes.Equal(content[:page+10], short.Bytes()))
	runtime.KeepAlive(exact)
	runtime.KeepAlive(short)
}
