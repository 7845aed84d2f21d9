package vfs

import (
	"io"
)

// Mapper is implemented by filesystems that can map a file into memory: the OS
// filesystem on Linux. Layers use it so that reads cost no system call and no copy;
// on a filesystem without it they read with ReadAt.
type Mapper interface {
	// MapFile maps the first length bytes of f, a file this filesystem opened (its
	// current size if length is 0), for reading, shared with the page cache: bytes
	// written to the file later show through. length may exceed the file's size, so
	// that a growing file needs no new mapping, but bytes past the file's end must
	// never be touched (the kernel raises SIGBUS). The mapping is of f itself, not of
	// whatever file has its name, and outlives f being closed or removed.
	MapFile(f File, length int64) (*Mapping, error)
}

// Mapping is a read-only view of a file's bytes in memory.
//
// A Mapping is unmapped only when it becomes unreachable (a cleanup attached by
// runtime.AddCleanup), never explicitly: whoever holds a slice of Bytes must hold the
// *Mapping too, and then the memory stays mapped however the file changes, even if it
// is removed. The one change that would pull bytes from under a reader, shrinking the
// file, must be preceded by Preserve.
type Mapping struct {
	data []byte
}

// Bytes returns the mapped bytes. They alias the page cache: only the part within the
// file's size may be read.
func (m *Mapping) Bytes() []byte { return m.data }

// Len returns the number of bytes mapped.
func (m *Mapping) Len() int { return len(m.data) }

// ReadAt copies the mapped bytes at off into p, as io.ReaderAt; reading past Len is
// io.EOF.
func (m *Mapping) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Preserve makes the mapped bytes from position from up to position to (at most Len)
// private copies of what the file holds there now, so that the file may then be
// truncated to from without changing what the mapping shows: a reader in the middle of
// those bytes keeps reading them, instead of zeros or a SIGBUS. to must not exceed the
// file's size rounded up to a page. The copies live as long as the mapping.
func (m *Mapping) Preserve(from, to int64) error {
	to = min(to, int64(len(m.data)))
	if from >= to {
		return nil
	}
	return preserve(m.data, from, to)
}
