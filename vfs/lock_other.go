//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// lockFile opens (creating if missing) the named file and then creates name+".lock"
// with O_EXCL, which fails while another holder has it. Closing the returned Closer
// removes the lock file. Unlike flock, a crashed process leaves the lock file behind;
// this fallback serves platforms without flock and is not meant for production use.
func lockFile(name string) (io.Closer, error) {
	f, err := openNoFollow(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	lockName := name + ".lock"
	lock, err := os.OpenFile(lockName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		f.Close()
		if errors.Is(err, fs.ErrExist) {
			err = ErrLocked
		}
		return nil, &fs.PathError{Op: "lock", Path: name, Err: err}
	}
	return &exclusiveLock{file: f, lock: lock}, nil
}

// exclusiveLock is a lock held through an O_EXCL lock file.
type exclusiveLock struct {
	file *os.File
	lock *os.File
}

// Close removes the lock file and closes both files.
func (l *exclusiveLock) Close() error {
	errLock := l.lock.Close()
	if errLock != nil {
		// Already closed: do not remove a lock file that may now belong to another.
		l.file.Close()
		return errLock
	}
	errRemove := os.Remove(l.lock.Name())
	errFile := l.file.Close()
	return errors.Join(errRemove, errFile)
}
