//go:build linux

package vfs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/vfs"
)

// TestDupFileOutlivesCloseAndRemove checks that a duplicated descriptor reads the
// file's bytes after the original is closed and the file removed (retention and
// compaction's swap remove segment files that a sendfile may still be reading).
func TestDupFileOutlivesCloseAndRemove(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	want := pattern(5000, 3)
	require.NoError(t, os.WriteFile(name, want, 0o644))
	f, err := vfs.OS.OpenFile(name, os.O_RDONLY, 0)
	require.NoError(t, err)
	dup, err := vfs.OS.(vfs.Duplicator).DupFile(f)
	require.NoError(t, err)
	defer dup.Close()
	require.NoError(t, f.Close())
	require.NoError(t, os.Remove(name))
	got := make([]byte, 100)
	_, err = dup.ReadAt(got, 1000)
	require.NoError(t, err)
	require.Equal(t, want[1000:1100], got)
}

// TestDupFileRefusesOtherFiles checks that a file of another filesystem is an error.
func TestDupFileRefusesOtherFiles(t *testing.T) {
	mem := vfs.NewMem()
	f, err := mem.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	_, err = vfs.OS.(vfs.Duplicator).DupFile(f)
	require.Error(t, err)
}
