//go:build unix

package bench

import "syscall"

// openFileLimit returns the soft RLIMIT_NOFILE, 0 if unknown.
func openFileLimit() uint64 {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		return 0
	}
	return uint64(limit.Cur)
}
