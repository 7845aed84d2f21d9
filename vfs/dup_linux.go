//go:build linux

package vfs

import (
	"fmt"
	"os"
	"syscall"
)

// DupFile implements Duplicator for the OS filesystem.
func (osFS) DupFile(f File) (*os.File, error) {
	of, ok := f.(osFile)
	if !ok {
		return nil, fmt.Errorf("strata/vfs: dup: %T is not a file of the OS filesystem", f)
	}
	rc, err := of.SyscallConn()
	if err != nil {
		return nil, err
	}
	var dup uintptr
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		dup, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if errno != 0 {
		return nil, &os.PathError{Op: "dup", Path: of.Name(), Err: errno}
	}
	return os.NewFile(dup, of.Name()), nil
}
