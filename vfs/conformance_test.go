package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// implementation makes a fresh file system and a directory in it to work in.
type implementation struct {
	name  string
	setup func(t *testing.T) (fsys FS, dir string)
}

func memDir(t *testing.T, fsys FS, dir string) (FS, string) {
	require.NoError(t, fsys.MkdirAll(dir, 0o755))
	return fsys, dir
}

var implementations = []implementation{
	{"OS", func(t *testing.T) (FS, string) { return OS, t.TempDir() }},
	{"Mem", func(t *testing.T) (FS, string) { return memDir(t, NewMem(), "/data/test") }},
	{"MemRelative", func(t *testing.T) (FS, string) { return memDir(t, NewMem(), "data") }},
	{"Crashable", func(t *testing.T) (FS, string) { return memDir(t, NewCrashable(), "/data") }},
	{"FaultyNoFaults", func(t *testing.T) (FS, string) { return memDir(t, NewFaulty(NewMem(), nil), "/data") }},
}

// createFile creates name holding data and returns it open for reading and writing.
func createFile(t *testing.T, fsys FS, name string, data []byte) File {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	if len(data) > 0 {
		n, err := f.WriteAt(data, 0)
		require.NoError(t, err)
		require.Equal(t, len(data), n)
	}
	return f
}

// content reads a whole open file.
func content(t *testing.T, f File) []byte {
	t.Helper()
	size, err := f.Size()
	require.NoError(t, err)
	data := make([]byte, size)
	n, err := f.ReadAt(data, 0)
	if err != nil {
		require.ErrorIs(t, err, io.EOF)
	}
	return data[:n]
}

var conformance = []struct {
	name string
	run  func(t *testing.T, fsys FS, dir string)
}{
	{"CreateWriteRead", func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "a")
		f := createFile(t, fsys, name, []byte("hello world"))
		require.Equal(t, name, f.Name())
		size, err := f.Size()
		require.NoError(t, err)
		require.EqualValues(t, 11, size)
		require.Equal(t, []byte("hello world"), content(t, f))

		n, err := f.WriteAt([]byte("WORLD"), 6)
		require.NoError(t, err)
		require.Equal(t, 5, n)
		require.Equal(t, []byte("hello WORLD"), content(t, f))
		require.NoError(t, f.Sync())
		require.NoError(t, f.Close())

		data, err := ReadFile(fsys, name)
		require.NoError(t, err)
		require.Equal(t, []byte("hello WORLD"), data)
	}},
	{"ReadAtEOF", func(t *testing.T, fsys FS, dir string) {
		f := createFile(t, fsys, filepath.Join(dir, "a"), []byte("0123456789"))
		buf := make([]byte, 4)

		n, err := f.ReadAt(buf, 6) // exactly to the end
		require.NoError(t, err)
		require.Equal(t, 4, n)
		require.Equal(t, []byte("6789"), buf)

		n, err = f.ReadAt(buf, 8) // across the end
		require.ErrorIs(t, err, io.EOF)
		require.Equal(t, 2, n)
		require.Equal(t, []byte("89"), buf[:n])

		n, err = f.ReadAt(buf, 10) // at the end
		require.ErrorIs(t, err, io.EOF)
		require.Zero(t, n)

		n, err = f.ReadAt(buf, 100) // beyond the end
		require.ErrorIs(t, err, io.EOF)
		require.Zero(t, n)

		n, err = f.ReadAt(nil, 100)
		require.NoError(t, err)
		require.Zero(t, n)

		_, err = f.ReadAt(buf, -1)
		require.Error(t, err)
	}},
	{"WriteAtPastEndFillsZeros", func(t *testing.T, fsys FS, dir string) {
		f := createFile(t, fsys, filepath.Join(dir, "a"), []byte("ab"))
		_, err := f.WriteAt([]byte("xy"), 5)
		require.NoError(t, err)
		require.Equal(t, []byte("ab\x00\x00\x00xy"), content(t, f))
	}},
	{"Truncate", func(t *testing.T, fsys FS, dir string) {
		f := createFile(t, fsys, filepath.Join(dir, "a"), []byte("0123456789"))
		require.NoError(t, f.Truncate(4))
		require.Equal(t, []byte("0123"), content(t, f))
		// Growing again must not resurrect the truncated bytes.
		require.NoError(t, f.Truncate(6))
		require.Equal(t, []byte("0123\x00\x00"), content(t, f))
		_, err := f.WriteAt([]byte("z"), 8)
		require.NoError(t, err)
		require.Equal(t, []byte("0123\x00\x00\x00\x00z"), content(t, f))
	}},
	{"OpenFlags", func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "a")
		_, err := fsys.OpenFile(name, os.O_RDWR, 0)
		require.ErrorIs(t, err, fs.ErrNotExist)

		require.NoError(t, createFile(t, fsys, name, []byte("data")).Close())
		_, err = fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		require.ErrorIs(t, err, fs.ErrExist)

		f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644) // existing: kept
		require.NoError(t, err)
		require.Equal(t, []byte("data"), content(t, f))
		require.NoError(t, f.Close())

		f, err = fsys.OpenFile(name, os.O_RDWR|os.O_TRUNC, 0)
		require.NoError(t, err)
		require.Empty(t, content(t, f))
		require.NoError(t, f.Close())

		_, err = fsys.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
		require.ErrorIs(t, err, ErrAppendUnsupported)

		readOnly, err := fsys.OpenFile(name, os.O_RDONLY, 0)
		require.NoError(t, err)
		defer readOnly.Close()
		_, err = readOnly.WriteAt([]byte("x"), 0)
		require.Error(t, err)
	}},
	{"CreateInMissingDirectory", func(t *testing.T, fsys FS, dir string) {
		_, err := fsys.OpenFile(filepath.Join(dir, "missing", "a"), os.O_RDWR|os.O_CREATE, 0o644)
		require.ErrorIs(t, err, fs.ErrNotExist)
		var pathErr *fs.PathError
		require.ErrorAs(t, err, &pathErr)
	}},
	{"ClosedFile", func(t *testing.T, fsys FS, dir string) {
		f := createFile(t, fsys, filepath.Join(dir, "a"), []byte("data"))
		require.NoError(t, f.Close())
		_, err := f.ReadAt(make([]byte, 1), 0)
		require.ErrorIs(t, err, fs.ErrClosed)
		_, err = f.WriteAt([]byte("x"), 0)
		require.ErrorIs(t, err, fs.ErrClosed)
		require.ErrorIs(t, f.Sync(), fs.ErrClosed)
		require.ErrorIs(t, f.Truncate(0), fs.ErrClosed)
		_, err = f.Size()
		require.ErrorIs(t, err, fs.ErrClosed)
		require.ErrorIs(t, f.Close(), fs.ErrClosed)
	}},
	{"RenameOverExisting", func(t *testing.T, fsys FS, dir string) {
		oldName, newName := filepath.Join(dir, "old"), filepath.Join(dir, "new")
		createFile(t, fsys, oldName, []byte("new content"))
		replaced := createFile(t, fsys, newName, []byte("replaced"))
		require.NoError(t, fsys.Rename(oldName, newName))

		_, err := fsys.Stat(oldName)
		require.ErrorIs(t, err, fs.ErrNotExist)
		data, err := ReadFile(fsys, newName)
		require.NoError(t, err)
		require.Equal(t, []byte("new content"), data)
		// The replaced file lives on through its open handle.
		require.Equal(t, []byte("replaced"), content(t, replaced))

		err = fsys.Rename(filepath.Join(dir, "missing"), newName)
		require.ErrorIs(t, err, fs.ErrNotExist)
	}},
	{"RenameDirectory", func(t *testing.T, fsys FS, dir string) {
		require.NoError(t, fsys.MkdirAll(filepath.Join(dir, "d1", "sub"), 0o755))
		require.NoError(t, createFile(t, fsys, filepath.Join(dir, "d1", "sub", "f"), []byte("x")).Close())
		require.NoError(t, fsys.Rename(filepath.Join(dir, "d1"), filepath.Join(dir, "d2")))
		data, err := ReadFile(fsys, filepath.Join(dir, "d2", "sub", "f"))
		require.NoError(t, err)
		require.Equal(t, []byte("x"), data)
		require.Error(t, fsys.Rename(filepath.Join(dir, "d2"), filepath.Join(dir, "d2", "sub", "d3")))
	}},
	{"Remove", func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "a")
		require.NoError(t, createFile(t, fsys, name, nil).Close())
		require.NoError(t, fsys.Remove(name))
		_, err := fsys.Stat(name)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorIs(t, fsys.Remove(name), fs.ErrNotExist)

		sub := filepath.Join(dir, "sub")
		require.NoError(t, fsys.MkdirAll(sub, 0o755))
		require.NoError(t, createFile(t, fsys, filepath.Join(sub, "f"), nil).Close())
		require.Error(t, fsys.Remove(sub), "non-empty directory")
		require.NoError(t, fsys.Remove(filepath.Join(sub, "f")))
		require.NoError(t, fsys.Remove(sub))
	}},
	{"RemoveAll", func(t *testing.T, fsys FS, dir string) {
		sub := filepath.Join(dir, "sub")
		require.NoError(t, fsys.MkdirAll(filepath.Join(sub, "x", "y"), 0o755))
		require.NoError(t, createFile(t, fsys, filepath.Join(sub, "x", "f"), nil).Close())
		require.NoError(t, fsys.RemoveAll(sub))
		_, err := fsys.Stat(sub)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.NoError(t, fsys.RemoveAll(sub), "missing is fine")
	}},
	{"MkdirAll", func(t *testing.T, fsys FS, dir string) {
		sub := filepath.Join(dir, "a", "b", "c")
		require.NoError(t, fsys.MkdirAll(sub, 0o755))
		require.NoError(t, fsys.MkdirAll(sub, 0o755), "existing is fine")
		info, err := fsys.Stat(sub)
		require.NoError(t, err)
		require.True(t, info.IsDir())
		require.Equal(t, "c", info.Name())

		file := filepath.Join(dir, "file")
		require.NoError(t, createFile(t, fsys, file, nil).Close())
		require.Error(t, fsys.MkdirAll(filepath.Join(file, "sub"), 0o755))
	}},
	{"ReadDirSorted", func(t *testing.T, fsys FS, dir string) {
		for _, name := range []string{"c", "a", "b10", "b2"} {
			require.NoError(t, createFile(t, fsys, filepath.Join(dir, name), nil).Close())
		}
		require.NoError(t, fsys.MkdirAll(filepath.Join(dir, "d"), 0o755))
		names, err := fsys.ReadDir(dir)
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b10", "b2", "c", "d"}, names)

		_, err = fsys.ReadDir(filepath.Join(dir, "missing"))
		require.ErrorIs(t, err, fs.ErrNotExist)
	}},
	{"Stat", func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "a")
		require.NoError(t, createFile(t, fsys, name, []byte("12345")).Close())
		info, err := fsys.Stat(name)
		require.NoError(t, err)
		require.Equal(t, "a", info.Name())
		require.EqualValues(t, 5, info.Size())
		require.False(t, info.IsDir())
		require.True(t, info.Mode().IsRegular())

		info, err = fsys.Stat(dir)
		require.NoError(t, err)
		require.True(t, info.IsDir())

		_, err = fsys.Stat(filepath.Join(dir, "missing"))
		require.ErrorIs(t, err, fs.ErrNotExist)
	}},
	{"SyncDir", func(t *testing.T, fsys FS, dir string) {
		require.NoError(t, fsys.SyncDir(dir))
		require.ErrorIs(t, fsys.SyncDir(filepath.Join(dir, "missing")), fs.ErrNotExist)
	}},
	{"LockExcludes", func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "LOCK")
		first, err := fsys.Lock(name)
		require.NoError(t, err)
		_, err = fsys.Stat(name)
		require.NoError(t, err, "Lock creates the file")

		_, err = fsys.Lock(name)
		require.ErrorIs(t, err, ErrLocked)

		other, err := fsys.Lock(filepath.Join(dir, "OTHER"))
		require.NoError(t, err, "other files are not locked")
		require.NoError(t, other.Close())

		require.NoError(t, first.Close())
		second, err := fsys.Lock(name)
		require.NoError(t, err)
		require.NoError(t, second.Close())
	}},
	{"HandleSurvivesRename", func(t *testing.T, fsys FS, dir string) {
		oldName, newName := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		f := createFile(t, fsys, oldName, []byte("one"))
		require.NoError(t, fsys.Rename(oldName, newName))
		_, err := f.WriteAt([]byte(" two"), 3)
		require.NoError(t, err)
		require.Equal(t, []byte("one two"), content(t, f))
		data, err := ReadFile(fsys, newName)
		require.NoError(t, err)
		require.Equal(t, []byte("one two"), data)
	}},
	{"HandleSurvivesRemove", func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "a")
		f := createFile(t, fsys, name, []byte("one"))
		require.NoError(t, fsys.Remove(name))
		_, err := f.WriteAt([]byte(" two"), 3)
		require.NoError(t, err)
		require.Equal(t, []byte("one two"), content(t, f))

		// A new file under the same name is another file.
		g := createFile(t, fsys, name, []byte("new"))
		require.Equal(t, []byte("new"), content(t, g))
		require.Equal(t, []byte("one two"), content(t, f))
	}},
	{"ConcurrentReadWrite", func(t *testing.T, fsys FS, dir string) {
		const chunk, chunks = 512, 16
		f := createFile(t, fsys, filepath.Join(dir, "a"), make([]byte, chunk))
		var wg sync.WaitGroup
		for i := 1; i < chunks; i++ {
			wg.Go(func() {
				_, err := f.WriteAt(bytes.Repeat([]byte{byte(i)}, chunk), int64(i*chunk))
				if err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				buf := make([]byte, chunk)
				if _, err := f.ReadAt(buf, 0); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got := content(t, f)
		for i := 1; i < chunks; i++ {
			require.Equal(t, bytes.Repeat([]byte{byte(i)}, chunk), got[i*chunk:(i+1)*chunk])
		}
	}},
	{"WriteFileAtomic", func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "meta")
		require.NoError(t, WriteFileAtomic(fsys, name, []byte("v1")))
		require.NoError(t, WriteFileAtomic(fsys, name, []byte("version 2")))
		data, err := ReadFile(fsys, name)
		require.NoError(t, err)
		require.Equal(t, []byte("version 2"), data)
		names, err := fsys.ReadDir(dir)
		require.NoError(t, err)
		require.Equal(t, []string{"meta"}, names, "no temporary file left")

		require.NoError(t, WriteFileAtomic(fsys, name, nil))
		data, err = ReadFile(fsys, name)
		require.NoError(t, err)
		require.Empty(t, data)

		_, err = ReadFile(fsys, filepath.Join(dir, "missing"))
		require.ErrorIs(t, err, fs.ErrNotExist)
		err = WriteFileAtomic(fsys, filepath.Join(dir, "missing", "meta"), []byte("x"))
		require.True(t, errors.Is(err, fs.ErrNotExist), "got %v", err)
	}},
}

// TestConformance holds every implementation to the same behaviour.
func TestConformance(t *testing.T) {
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			for _, test := range conformance {
				t.Run(test.name, func(t *testing.T) {
					fsys, dir := impl.setup(t)
					test.run(t, fsys, dir)
				})
			}
		})
	}
}
