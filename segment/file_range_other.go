//go:build !linux

package segment

import "errors"

// SendTo is not supported off Linux: no filesystem there implements
// vfs.Duplicator, so no FileRange is ever made.
func (r *FileRange) SendTo(sock int, from int) (int, error) {
	return 0, errors.ErrUnsupported
}
