package vfs

import (
	"io"
	"io/fs"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// memNode is an inode of a MemFS: a directory or a file. Handles and directory entries
// point at nodes, so a handle keeps working after its name is removed or renamed.
//
// Lock order: MemFS.mu, then memNode.mu.
type memNode struct {
	isDir bool

	// Directory entries, guarded by MemFS.mu (not by the node's own mu).
	children map[string]*memNode
	// durableChildren is, in a strict (crashable) file system, the directory's entries
	// as of its last SyncDir: what a crash leaves in the directory.
	durableChildren map[string]*memNode

	mu struct {
		sync.RWMutex
		data    []byte // file content; nil for directories
		mode    fs.FileMode
		modTime time.Time

		// The durable state of a file in a strict file system. While overwritten is
		// false, data[:syncedLen] is the synced content and the file has only grown
		// since (the common case, kept without copying). The first write or truncate
		// below syncedLen copies the synced content into syncedData and sets
		// overwritten.
		syncedLen   int
		syncedData  []byte
		overwritten bool
	}
}

func newDirNode(perm fs.FileMode) *memNode {
	n := &memNode{
		isDir:           true,
		children:        make(map[string]*memNode),
		durableChildren: make(map[string]*memNode),
	}
	n.mu.mode = fs.ModeDir | perm&fs.ModePerm
	n.mu.modTime = time.Now()
	return n
}

func newFileNode(perm fs.FileMode, data []byte) *memNode {
	n := &memNode{}
	n.mu.data = data
	n.mu.mode = perm & fs.ModePerm
	n.mu.modTime = time.Now()
	n.mu.syncedLen = len(data)
	return n
}

// touch records a modification of the node.
func (n *memNode) touch() {
	n.mu.Lock()
	n.mu.modTime = time.Now()
	n.mu.Unlock()
}

// info describes the node under the given name.
func (n *memNode) info(name string) fs.FileInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return &memFileInfo{
		name:    name,
		size:    int64(len(n.mu.data)),
		mode:    n.mu.mode,
		modTime: n.mu.modTime,
	}
}

// keepSyncedLocked is called before data[:syncedLen] is changed: it saves the synced
// content if no earlier change did. The caller holds n.mu for writing.
func (n *memNode) keepSyncedLocked() {
	if n.mu.overwritten {
		return
	}
	n.mu.syncedData = slices.Clone(n.mu.data[:n.mu.syncedLen])
	n.mu.overwritten = true
}

// resizeLocked sets the length of the content, filling new bytes with zeros. The caller
// holds n.mu for writing.
func (n *memNode) resizeLocked(size int) {
	old := len(n.mu.data)
	if size <= old {
		n.mu.data = n.mu.data[:size]
		return
	}
	n.mu.data = slices.Grow(n.mu.data, size-old)[:size]
	clear(n.mu.data[old:]) // capacity beyond the old length may hold truncated bytes
}

// syncedContentLocked returns the content a crash keeps for sure, and whether the file
// has only grown beyond it since (so that data[syncedLen:] are the unsynced bytes).
// The caller holds n.mu and must not modify the result.
func (n *memNode) syncedContentLocked() (synced []byte, grewOnly bool) {
	if n.mu.overwritten {
		return n.mu.syncedData, false
	}
	return n.mu.data[:n.mu.syncedLen], true
}

// memFile is an open handle on a memNode.
type memFile struct {
	node     *memNode
	name     string
	strict   bool // track durable content (CrashableFS)
	readable bool
	writable bool
	closed   atomic.Bool
}

// check returns the error of an operation on a closed handle, or of a read (write) on a
// handle not opened for reading (writing).
func (f *memFile) check(op string, needRead, needWrite bool) error {
	switch {
	case f.closed.Load():
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	case needRead && !f.readable, needWrite && !f.writable:
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrPermission}
	}
	return nil
}

// ReadAt reads like os.File.ReadAt: n < len(p) only with io.EOF at the end of the file.
func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read", true, false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: f.name, Err: fs.ErrInvalid}
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.node.mu.RLock()
	defer f.node.mu.RUnlock()
	data := f.node.mu.data
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt writes p at off, extending the file with zeros if off is beyond its end.
func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write", false, true); err != nil {
		return 0, err
	}
	if off < 0 || off > int64(math.MaxInt-len(p)) {
		return 0, &fs.PathError{Op: "writeat", Path: f.name, Err: fs.ErrInvalid}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.strict && off < int64(n.mu.syncedLen) {
		n.keepSyncedLocked()
	}
	if end := int(off) + len(p); end > len(n.mu.data) {
		n.resizeLocked(end)
	}
	copy(n.mu.data[off:], p)
	n.mu.modTime = time.Now()
	return len(p), nil
}

// Truncate changes the file's size, filling with zeros when it grows.
func (f *memFile) Truncate(size int64) error {
	if err := f.check("truncate", false, true); err != nil {
		return err
	}
	if size < 0 || size > math.MaxInt {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	f.node.truncate(int(size), f.strict)
	return nil
}

// truncate resizes the content; strict tracks the durable content.
func (n *memNode) truncate(size int, strict bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if strict && size < n.mu.syncedLen {
		n.keepSyncedLocked()
	}
	n.resizeLocked(size)
	n.mu.modTime = time.Now()
}

// Sync makes the current content the durable content (in a CrashableFS).
func (f *memFile) Sync() error {
	if err := f.check("sync", false, false); err != nil {
		return err
	}
	if !f.strict {
		return nil
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.syncedLen = len(n.mu.data)
	n.mu.syncedData = nil
	n.mu.overwritten = false
	return nil
}

// Size returns the current length of the content.
func (f *memFile) Size() (int64, error) {
	if err := f.check("stat", false, false); err != nil {
		return 0, err
	}
	f.node.mu.RLock()
	defer f.node.mu.RUnlock()
	return int64(len(f.node.mu.data)), nil
}

// Close closes the handle; a second Close returns fs.ErrClosed.
func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	return nil
}

// Name returns the path the file was opened with.
func (f *memFile) Name() string { return f.name }

// memFileInfo is the fs.FileInfo of a MemFS file or directory.
type memFileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (i *memFileInfo) Name() string       { return i.name }
func (i *memFileInfo) Size() int64        { return i.size }
func (i *memFileInfo) Mode() fs.FileMode  { return i.mode }
func (i *memFileInfo) ModTime() time.Time { return i.modTime }
func (i *memFileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *memFileInfo) Sys() any           { return nil }
