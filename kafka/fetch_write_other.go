//go:build !linux

package kafka

import (
	"errors"

	"github.com/stratalog/strata/segment"
)

// sendfileSupported: off Linux the store makes no file ranges (no filesystem
// lends descriptors), and batches are written from memory.
const sendfileSupported = false

func (f *fileSender) send(r *segment.FileRange) (int, error) { return 0, errors.ErrUnsupported }

// sendfileRefused is never asked off Linux.
func sendfileRefused(err error) bool { return false }
