package vfs

import "os"

// Duplicator is implemented by filesystems that can lend a file's open descriptor to
// the operating system's zero-copy calls (sendfile(2)): the OS filesystem on Linux.
// Layers use it so that a server sends a file's bytes to a socket without reading
// them into memory; on a filesystem without it they send what they read.
type Duplicator interface {
	// DupFile returns a new *os.File on the same open file as f, a file this
	// filesystem opened (dup(2), close-on-exec): it stays open, and its bytes
	// readable, after f is closed or its name removed, until the caller closes it.
	// It shares the open file with f, file position included: read it only at
	// explicit positions (pread, sendfile with an offset), never with Read or Seek.
	// Writing to it, or truncating it, is not allowed.
	DupFile(f File) (*os.File, error)
}
