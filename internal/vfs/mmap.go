package vfs

import (
	"io"

	"golang.org/x/exp/mmap"
)

// Mapping is a read-only view of a file's bytes in memory, as they were when it was
// mapped. Reading past Len is io.EOF. Close unmaps it; the caller must ensure no
// ReadAt runs concurrently with or after Close.
type Mapping interface {
	io.ReaderAt
	io.Closer
	// Len returns the number of bytes mapped.
	Len() int
}

// Mapper is implemented by filesystems that can map a file into memory. Layers use it
// for files that no longer change (sealed segments), so that reads cost no system
// call; on a filesystem without it they read with ReadAt.
type Mapper interface {
	// MapReadOnly maps the whole file at name, at its current size, for reading.
	MapReadOnly(name string) (Mapping, error)
}

// MapReadOnly implements Mapper for the OS filesystem.
func (osFS) MapReadOnly(name string) (Mapping, error) { return mmap.Open(name) }
