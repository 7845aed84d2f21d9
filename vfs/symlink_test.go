package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// A symlink planted inside a store must not let strata write or truncate the file it
// points to: OS.OpenFile and OS.Lock refuse it with ErrSymlink, and Lstat shows it.
func TestOSRefusesSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	outside := filepath.Join(t.TempDir(), "precious")
	require.NoError(t, os.WriteFile(outside, []byte("keep me"), 0o644))
	dir := t.TempDir()
	link := filepath.Join(dir, "00000000000000000000.log")
	require.NoError(t, os.Symlink(outside, link))

	for _, flag := range []int{os.O_RDONLY, os.O_RDWR, os.O_RDWR | os.O_CREATE, os.O_RDWR | os.O_TRUNC} {
		_, err := OS.OpenFile(link, flag, 0o644)
		require.ErrorIs(t, err, ErrSymlink, "flag %#x", flag)
	}
	_, err := OS.Lock(link)
	require.ErrorIs(t, err, ErrSymlink)
	_, err = ReadFileLimit(OS, link, 1<<20)
	require.ErrorIs(t, err, ErrSymlink)

	info, err := OS.Lstat(link)
	require.NoError(t, err)
	require.NotZero(t, info.Mode()&fs.ModeSymlink)
	data, err := os.ReadFile(outside)
	require.NoError(t, err)
	require.Equal(t, "keep me", string(data))

	// A symlink above the last component (a configured directory) is followed.
	linkedDir := filepath.Join(dir, "linked")
	require.NoError(t, os.Symlink(filepath.Dir(outside), linkedDir))
	f, err := OS.OpenFile(filepath.Join(linkedDir, "precious"), os.O_RDONLY, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestReadFileLimit(t *testing.T) {
	for name, fsys := range map[string]FS{"os": OS, "mem": NewMem()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if name == "mem" {
				dir = "/d"
				require.NoError(t, fsys.MkdirAll(dir, 0o755))
			}
			path := filepath.Join(dir, "f")
			require.NoError(t, WriteFileAtomic(fsys, path, make([]byte, 100)))
			data, err := ReadFileLimit(fsys, path, 100)
			require.NoError(t, err)
			require.Len(t, data, 100)
			_, err = ReadFileLimit(fsys, path, 99)
			require.ErrorIs(t, err, ErrTooLarge)
			var pathErr *fs.PathError
			require.True(t, errors.As(err, &pathErr))
			require.Equal(t, path, pathErr.Path)
		})
	}
}
