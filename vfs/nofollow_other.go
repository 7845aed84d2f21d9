//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package vfs

import (
	"io/fs"
	"os"
)

// openNoFollow is os.OpenFile that refuses a symlink as the last component of name:
// the error then wraps ErrSymlink. Without O_NOFOLLOW the check is an Lstat before
// the open, which a symlink planted between the two escapes.
func openNoFollow(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if info, err := os.Lstat(name); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrSymlink}
	}
	return os.OpenFile(name, flag, perm)
}
