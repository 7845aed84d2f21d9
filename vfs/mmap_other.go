//go:build !linux

package vfs

import "errors"

// preserve is never called off Linux: no filesystem there implements Mapper.
func preserve(data []byte, from, to int64) error {
	return errors.New("strata/vfs: memory mappings are not supported on this platform")
}
