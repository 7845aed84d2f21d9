package vfs

import (
	"io"
	"io/fs"
)

// FS is a filesystem. All methods are safe for concurrent use.
type FS interface {
	// OpenFile opens a file with os.OpenFile flags (os.O_RDONLY, os.O_RDWR, os.O_CREATE,
	// os.O_EXCL, os.O_TRUNC). os.O_APPEND is not supported: writers use WriteAt. A
	// symlink as the last component of name is never followed: the error wraps
	// ErrSymlink (directories above it may be symlinks).
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// Rename renames a file, replacing newname if it exists.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(name string, perm fs.FileMode) error
	// RemoveAll removes a directory and everything below it.
	RemoveAll(name string) error
	// ReadDir lists the names of a directory's entries, sorted.
	ReadDir(name string) ([]string, error)
	// Stat describes a file or directory, following a symlink.
	Stat(name string) (fs.FileInfo, error)
	// Lstat describes the named entry itself: a symlink is described (its Mode has
	// fs.ModeSymlink), not followed. The in-memory filesystems have no symlinks.
	Lstat(name string) (fs.FileInfo, error)
	// SyncDir fsyncs a directory, making creates, renames and removes of its entries
	// durable.
	SyncDir(name string) error
	// Lock takes an exclusive lock on the named file (created if missing), held until
	// the returned Closer is closed. A second Lock of the same file, from this process
	// or another, fails at once with ErrLocked.
	Lock(name string) (io.Closer, error)
}

// File is an open file. ReadAt may be called concurrently with WriteAt on
// non-overlapping ranges; other calls are not synchronized.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the file's contents durable (fsync).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the file's current size.
	Size() (int64, error)
	// Name returns the path the file was opened with.
	Name() string
}
