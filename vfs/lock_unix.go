//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// lockFile opens (creating if missing) the named file and takes flock(LOCK_EX|LOCK_NB)
// on it. flock locks belong to the open file description, so a second lockFile of the
// same file conflicts even within this process. Closing the returned file releases
// the lock, as does the death of the process.
func lockFile(name string) (io.Closer, error) {
	f, err := openNoFollow(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "lock", Path: name, Err: err}
	}
	var flockErr error
	err = raw.Control(func(fd uintptr) {
		for {
			flockErr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if flockErr != syscall.EINTR {
				return
			}
		}
	})
	if err == nil {
		err = flockErr
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			err = ErrLocked
		}
		return nil, &fs.PathError{Op: "lock", Path: name, Err: err}
	}
	return f, nil
}
