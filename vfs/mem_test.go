package vfs

import (
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemPathsAreCleaned(t *testing.T) {
	fsys := NewMem()
	require.NoError(t, fsys.MkdirAll("a/b", 0o755))
	require.NoError(t, WriteFileAtomic(fsys, "/a/b/f", []byte("x")))
	for _, name := range []string{"a/b/f", "/a/b/f", "./a//b/f", "a/../a/b/f", "../a/b/f"} {
		data, err := ReadFile(fsys, name)
		require.NoError(t, err, name)
		require.Equal(t, []byte("x"), data, name)
	}
	names, err := fsys.ReadDir(".")
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, names)
}

func TestMemErrors(t *testing.T) {
	fsys := NewMem()
	require.NoError(t, fsys.MkdirAll("/d", 0o755))
	require.NoError(t, WriteFileAtomic(fsys, "/d/f", nil))

	_, err := fsys.OpenFile("/d", os.O_RDONLY, 0)
	require.ErrorIs(t, err, ErrIsDir)
	_, err = fsys.OpenFile("/d/f/g", os.O_RDWR|os.O_CREATE, 0o644)
	require.ErrorIs(t, err, ErrNotDir)
	require.ErrorIs(t, fsys.Remove("/"), fs.ErrInvalid)
	require.ErrorIs(t, fsys.RemoveAll("/"), fs.ErrInvalid)
	require.ErrorIs(t, fsys.Remove("/d"), ErrNotEmpty)
	require.ErrorIs(t, fsys.Rename("/d", "/d/f"), fs.ErrInvalid)
	require.ErrorIs(t, fsys.Rename("/d/f", "/"), fs.ErrInvalid)
	require.NoError(t, fsys.MkdirAll("/e/sub", 0o755))
	require.ErrorIs(t, fsys.Rename("/d/f", "/e"), ErrIsDir)
	require.ErrorIs(t, fsys.Rename("/e", "/d/f"), ErrNotDir)
	require.ErrorIs(t, fsys.Rename("/d", "/e"), ErrNotEmpty)
	require.NoError(t, fsys.Rename("/e/sub", "/d/f/../../x"))
	require.NoError(t, fsys.Rename("/x", "/x"), "same name")
	_, err = fsys.ReadDir("/d/f")
	require.ErrorIs(t, err, ErrNotDir)
	require.ErrorIs(t, fsys.SyncDir("/d/f"), ErrNotDir)

	f, err := fsys.OpenFile("/d/f", os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.ReadAt(make([]byte, 1), 0)
	require.ErrorIs(t, err, fs.ErrPermission)
	require.ErrorIs(t, f.Truncate(-1), fs.ErrInvalid)
	require.NoError(t, f.Close())
}

func TestMemLockFollowsTheFile(t *testing.T) {
	fsys := NewMem()
	lock, err := fsys.Lock("LOCK")
	require.NoError(t, err)
	require.NoError(t, fsys.Rename("LOCK", "MOVED"))
	_, err = fsys.Lock("MOVED")
	require.ErrorIs(t, err, ErrLocked, "the lock belongs to the file, not the name")
	second, err := fsys.Lock("LOCK")
	require.NoError(t, err, "a new file under the old name is not locked")
	require.NoError(t, second.Close())
	require.NoError(t, lock.Close())
	require.ErrorIs(t, lock.Close(), fs.ErrClosed)
}
