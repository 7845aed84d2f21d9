package vfs

import (
	"bytes"
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

var crashModes = []CrashMode{DropUnsynced, KeepPrefix, TearGarbage, TearZeros}

// newSyncedDir returns a crashable file system with a durable directory /d.
func newSyncedDir(t *testing.T) *CrashableFS {
	fsys := NewCrashable()
	require.NoError(t, fsys.MkdirAll("/d", 0o755))
	require.NoError(t, fsys.SyncDir("/"))
	return fsys
}

// writeDurably creates name with data, syncs it and its directory.
func writeDurably(t *testing.T, fsys FS, name string, data []byte) File {
	f := createFile(t, fsys, name, data)
	require.NoError(t, f.Sync())
	require.NoError(t, fsys.SyncDir("/d"))
	return f
}

func readCrashed(t *testing.T, fsys FS, name string) []byte {
	t.Helper()
	data, err := ReadFile(fsys, name)
	require.NoError(t, err)
	return data
}

func TestCrashKeepsSyncedData(t *testing.T) {
	for _, mode := range crashModes {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := newSyncedDir(t)
			writeDurably(t, fsys, "/d/f", []byte("durable"))
			require.Zero(t, fsys.UnsyncedBytes())
			after := fsys.Crash(mode, 1)
			require.Equal(t, []byte("durable"), readCrashed(t, after, "/d/f"))
		})
	}
}

func TestCrashDropUnsynced(t *testing.T) {
	fsys := newSyncedDir(t)
	f := writeDurably(t, fsys, "/d/f", []byte("durable"))
	_, err := f.WriteAt([]byte(" and more"), 7)
	require.NoError(t, err)
	require.EqualValues(t, 9, fsys.UnsyncedBytes())

	after := fsys.Crash(DropUnsynced, 1)
	require.Equal(t, []byte("durable"), readCrashed(t, after, "/d/f"))
	// The old file system is unchanged and keeps working.
	require.Equal(t, []byte("durable and more"), content(t, f))
	_, err = f.WriteAt([]byte("!"), 16)
	require.NoError(t, err)
	require.Equal(t, []byte("durable"), readCrashed(t, after, "/d/f"))
}

func TestCrashOverwriteInPlace(t *testing.T) {
	for seed := range int64(20) {
		fsys := newSyncedDir(t)
		f := writeDurably(t, fsys, "/d/f", []byte("0123456789"))
		_, err := f.WriteAt([]byte("ab"), 2)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(8))
		require.EqualValues(t, 10, fsys.UnsyncedBytes())

		require.Equal(t, []byte("0123456789"), readCrashed(t, fsys.Crash(DropUnsynced, seed), "/d/f"))
		for _, mode := range crashModes[1:] {
			got := readCrashed(t, fsys.Crash(mode, seed), "/d/f")
			require.Contains(t, []string{"0123456789", "01ab4567"}, string(got), "mode %v seed %d", mode, seed)
		}
	}
}

func TestCrashUnsyncedDirectoryEntries(t *testing.T) {
	t.Run("CreateNotSynced", func(t *testing.T) {
		fsys := newSyncedDir(t)
		f := createFile(t, fsys, "/d/f", []byte("data"))
		require.NoError(t, f.Sync(), "syncing the file does not make its name durable")
		_, err := fsys.Crash(DropUnsynced, 1).Stat("/d/f")
		require.ErrorIs(t, err, fs.ErrNotExist)
	})
	t.Run("DirectoryNeverSynced", func(t *testing.T) {
		fsys := NewCrashable()
		require.NoError(t, fsys.MkdirAll("/new/sub", 0o755))
		writeDurablyIn(t, fsys, "/new/sub", "f")
		require.NoError(t, fsys.SyncDir("/new"))
		_, err := fsys.Crash(DropUnsynced, 1).Stat("/new")
		require.ErrorIs(t, err, fs.ErrNotExist, "/ was never synced")

		require.NoError(t, fsys.SyncDir("/"))
		data, err := ReadFile(fsys.Crash(DropUnsynced, 1), "/new/sub/f")
		require.NoError(t, err)
		require.Equal(t, []byte("f"), data)
	})
	t.Run("RenameNotSynced", func(t *testing.T) {
		fsys := newSyncedDir(t)
		writeDurably(t, fsys, "/d/CURRENT", []byte("old"))
		writeDurably(t, fsys, "/d/tmp", []byte("new"))
		require.NoError(t, fsys.Rename("/d/tmp", "/d/CURRENT"))
		after := fsys.Crash(DropUnsynced, 1)
		require.Equal(t, []byte("old"), readCrashed(t, after, "/d/CURRENT"))
		require.Equal(t, []byte("new"), readCrashed(t, after, "/d/tmp"))

		require.NoError(t, fsys.SyncDir("/d"))
		after = fsys.Crash(DropUnsynced, 1)
		require.Equal(t, []byte("new"), readCrashed(t, after, "/d/CURRENT"))
		_, err := after.Stat("/d/tmp")
		require.ErrorIs(t, err, fs.ErrNotExist)
	})
	t.Run("RemoveNotSynced", func(t *testing.T) {
		fsys := newSyncedDir(t)
		writeDurably(t, fsys, "/d/f", []byte("back"))
		require.NoError(t, fsys.Remove("/d/f"))
		require.Equal(t, []byte("back"), readCrashed(t, fsys.Crash(DropUnsynced, 1), "/d/f"))
	})
	t.Run("WriteFileAtomic", func(t *testing.T) {
		fsys := newSyncedDir(t)
		require.NoError(t, WriteFileAtomic(fsys, "/d/meta", []byte("v1")))
		for _, mode := range crashModes {
			require.Equal(t, []byte("v1"), readCrashed(t, fsys.Crash(mode, 7), "/d/meta"))
		}
	})
}

func writeDurablyIn(t *testing.T, fsys FS, dir, name string) {
	f := createFile(t, fsys, dir+"/"+name, []byte(name))
	require.NoError(t, f.Sync())
	require.NoError(t, fsys.SyncDir(dir))
}

// unsyncedTail sets up a file with synced "synced." and 100 unsynced bytes.
func unsyncedTail(t *testing.T) (*CrashableFS, []byte) {
	fsys := newSyncedDir(t)
	f := writeDurably(t, fsys, "/d/f", []byte("synced."))
	unsynced := bytes.Repeat([]byte("u"), 100)
	_, err := f.WriteAt(unsynced, 7)
	require.NoError(t, err)
	return fsys, unsynced
}

func TestCrashKeepPrefix(t *testing.T) {
	fsys, unsynced := unsyncedTail(t)
	lengths := make(map[int]bool)
	for seed := range int64(100) {
		got := readCrashed(t, fsys.Crash(KeepPrefix, seed), "/d/f")
		require.True(t, bytes.HasPrefix(got, []byte("synced.")), "seed %d", seed)
		tail := got[7:]
		require.Equal(t, unsynced[:len(tail)], tail, "seed %d", seed)
		lengths[len(tail)] = true
	}
	require.True(t, lengths[0], "none kept under some seed")
	require.True(t, lengths[100], "all kept under some seed")
	require.Greater(t, len(lengths), 3, "various lengths")
}

func TestCrashTear(t *testing.T) {
	for _, mode := range []CrashMode{TearGarbage, TearZeros} {
		t.Run(mode.String(), func(t *testing.T) {
			fsys, unsynced := unsyncedTail(t)
			sawGarbage := false
			for seed := range int64(100) {
				got := readCrashed(t, fsys.Crash(mode, seed), "/d/f")
				require.True(t, bytes.HasPrefix(got, []byte("synced.")), "seed %d", seed)
				rest := got[7:]
				keep := 0
				for keep < len(rest) && keep < len(unsynced) && rest[keep] == 'u' {
					keep++
				}
				tail := rest[keep:]
				// A garbage byte may happen to be 'u': the tail is at least what remains.
				require.LessOrEqual(t, len(tail), maxTearBytes, "seed %d", seed)
				require.GreaterOrEqual(t, len(rest), 1, "seed %d: a tail is always added", seed)
				if mode == TearZeros {
					require.NotEmpty(t, tail, "seed %d", seed)
					require.Equal(t, make([]byte, len(tail)), tail, "seed %d", seed)
				} else if bytes.ContainsFunc(tail, func(r rune) bool { return r != 0 }) {
					sawGarbage = true
				}
			}
			if mode == TearGarbage {
				require.True(t, sawGarbage)
			}
		})
	}
}

func TestCrashSameSeedSameResult(t *testing.T) {
	fsys := newSyncedDir(t)
	for _, name := range []string{"a", "b", "c"} {
		f := writeDurably(t, fsys, "/d/"+name, []byte(name))
		_, err := f.WriteAt(bytes.Repeat([]byte(name), 300), 1)
		require.NoError(t, err)
	}
	for _, mode := range crashModes {
		first, second := fsys.Crash(mode, 42), fsys.Crash(mode, 42)
		for _, name := range []string{"a", "b", "c"} {
			require.Equal(t, readCrashed(t, first, "/d/"+name), readCrashed(t, second, "/d/"+name), "mode %v", mode)
		}
	}
}

func TestCrashResultIsDurableAndUnlocked(t *testing.T) {
	fsys := newSyncedDir(t)
	lock, err := fsys.Lock("/d/LOCK")
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, fsys.SyncDir("/d"))

	after := fsys.Crash(DropUnsynced, 1)
	require.Zero(t, after.UnsyncedBytes())
	relock, err := after.Lock("/d/LOCK")
	require.NoError(t, err, "a crash releases every lock")
	require.NoError(t, relock.Close())

	again := after.Crash(DropUnsynced, 2)
	names, err := again.ReadDir("/d")
	require.NoError(t, err)
	require.Equal(t, []string{"LOCK"}, names, "the crashed state is durable")
}

func TestCrashDirectoryReachableTwice(t *testing.T) {
	fsys := NewCrashable()
	require.NoError(t, fsys.MkdirAll("/x/y", 0o755))
	require.NoError(t, fsys.SyncDir("/"))
	require.NoError(t, fsys.SyncDir("/x"))
	require.NoError(t, fsys.Rename("/x/y", "/y"))
	require.NoError(t, fsys.SyncDir("/")) // durable: / {x, y}, /x {y}
	require.NoError(t, fsys.Rename("/x", "/y/x"))
	require.NoError(t, fsys.SyncDir("/y")) // durable: /y {x}: a cycle x -> y -> x

	after := fsys.Crash(DropUnsynced, 1)
	names, err := after.ReadDir("/x")
	require.NoError(t, err)
	require.Equal(t, []string{"y"}, names)
	names, err = after.ReadDir("/x/y")
	require.NoError(t, err)
	require.Empty(t, names, "the cycle is cut")
	_, err = after.Stat("/y")
	require.ErrorIs(t, err, fs.ErrNotExist, "a directory keeps one name")
}

func TestCrashUnknownModePanics(t *testing.T) {
	require.Panics(t, func() { NewCrashable().Crash(CrashMode(99), 1) })
	require.Equal(t, "CrashMode(99)", CrashMode(99).String())
}

func TestCrashTruncateAndRegrow(t *testing.T) {
	fsys := newSyncedDir(t)
	f := writeDurably(t, fsys, "/d/f", []byte("abcdef"))
	require.NoError(t, f.Truncate(0))
	_, err := f.WriteAt([]byte("xyz"), 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	_, err = f.WriteAt([]byte("123"), 3)
	require.NoError(t, err)
	require.Equal(t, []byte("xyz"), readCrashed(t, fsys.Crash(DropUnsynced, 1), "/d/f"))

	g, err := fsys.OpenFile("/d/f", os.O_RDWR|os.O_TRUNC, 0)
	require.NoError(t, err)
	defer g.Close()
	require.Equal(t, []byte("xyz"), readCrashed(t, fsys.Crash(DropUnsynced, 1), "/d/f"))
}
