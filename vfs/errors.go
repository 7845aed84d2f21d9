package vfs

import "errors"

// Sentinel errors of this package. They are wrapped in an *fs.PathError naming the
// operation and path, so check them with errors.Is.
//
// MemFS and CrashableFS also use the standard fs.ErrNotExist, fs.ErrExist,
// fs.ErrClosed, fs.ErrInvalid and fs.ErrPermission where the OS would return the
// matching errno; OS returns whatever the operating system returns.
var (
	// ErrLocked is returned by FS.Lock when the file is already locked, by another
	// process or by another Lock in this process.
	ErrLocked = errors.New("strata/vfs: locked by another process or handle")
	// ErrAppendUnsupported is returned by OpenFile for os.O_APPEND: writers use WriteAt.
	ErrAppendUnsupported = errors.New("strata/vfs: os.O_APPEND is not supported")
	// ErrNotEmpty is returned by MemFS when removing, or renaming over, a directory
	// that still has entries.
	ErrNotEmpty = errors.New("strata/vfs: directory not empty")
	// ErrIsDir is returned by MemFS for a file operation on a directory.
	ErrIsDir = errors.New("strata/vfs: is a directory")
	// ErrNotDir is returned by MemFS when a path component, or the target of a
	// directory operation, is a file.
	ErrNotDir = errors.New("strata/vfs: not a directory")
	// ErrSymlink is returned by OpenFile and Lock when the named file is a symlink:
	// strata never follows a symlink found inside its store, so that a planted link
	// cannot make it write, truncate or delete a file outside the store.
	ErrSymlink = errors.New("strata/vfs: refusing to follow a symlink")
	// ErrTooLarge is returned by ReadFileLimit for a file larger than the bound its
	// reader allows.
	ErrTooLarge = errors.New("strata/vfs: file larger than its reader allows")
	// ErrInjected is returned by a file system made with NewFaulty when a Fault has no
	// Err of its own.
	ErrInjected = errors.New("strata/vfs: injected fault")
)
