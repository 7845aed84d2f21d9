package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces the file at path with data so that after a crash path holds
// either its old content or data, never a mix: it writes path+".tmp", syncs and closes
// it, renames it over path, and syncs path's directory. When it returns nil the new
// content is durable. On error the temporary file is removed (best effort) and path is
// untouched unless the rename itself happened.
func WriteFileAtomic(fsys FS, path string, data []byte) error {
	return WriteFileAtomicMode(fsys, path, data, 0o644)
}

// WriteFileAtomicMode is WriteFileAtomic of a file created with perm (before the
// umask): 0o600 for a file only its owner may read.
func WriteFileAtomicMode(fsys FS, path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	return fsys.SyncDir(filepath.Dir(path))
}

// ReadFile returns the whole content of the file at path. Files strata reads use
// ReadFileLimit, so that no file can make it allocate without bound.
func ReadFile(fsys FS, path string) ([]byte, error) {
	return ReadFileLimit(fsys, path, math.MaxInt64)
}

// ReadFileLimit returns the whole content of the file at path, or an error wrapping
// ErrTooLarge, before reading anything, if the file holds more than limit bytes.
func ReadFileLimit(fsys FS, path string, limit int64) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > limit || size > math.MaxInt {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, at most %d read", ErrTooLarge, size, limit)}
	}
	data := make([]byte, size)
	n, err := f.ReadAt(data, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return data[:n], nil
}

// MkdirAllSync creates dir and any missing parents, durably: after it returns, a
// crash does not lose any directory it created, because the parent of each one is
// fsynced once the child exists.
func MkdirAllSync(fsys FS, dir string) error {
	dir = filepath.Clean(dir)
	var created []string // missing directories, deepest first
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := fsys.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(created) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := len(created) - 1; i >= 0; i-- {
		if err := fsys.SyncDir(filepath.Dir(created[i])); err != nil {
			return err
		}
	}
	return nil
}
