package vfs

import (
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// MemFS is an in-memory FS with POSIX-like inode semantics: an open handle keeps
// reading and writing the same file after its name is removed or renamed; a file can
// only be created in an existing directory; Rename replaces an existing file. Paths are
// cleaned and taken relative to a single root, so "a/b", "/a/b" and "./a//b" name the
// same file.
//
// Errors are *fs.PathError (*os.LinkError for Rename) wrapping fs.ErrNotExist,
// fs.ErrExist, fs.ErrClosed, fs.ErrInvalid, fs.ErrPermission (a write on a read-only
// handle), ErrNotEmpty, ErrIsDir, ErrNotDir or ErrLocked.
//
// MemFS is safe for concurrent use; a File follows the File contract.
type MemFS struct {
	// strict makes the file system track what is durable; set once by NewCrashable.
	strict bool

	mu struct {
		sync.Mutex
		root *memNode
		// locked holds the files locked by Lock.
		locked map[*memNode]bool
	}
}

// NewMem returns an empty in-memory file system holding only the root directory.
func NewMem() *MemFS {
	m := &MemFS{}
	m.init(false)
	return m
}

func (m *MemFS) init(strict bool) {
	m.strict = strict
	m.mu.root = newDirNode(0o755)
	m.mu.locked = make(map[*memNode]bool)
}

// splitPath cleans name and splits it into its components below the root; the root
// itself has none.
func splitPath(name string) []string {
	cleaned := path.Clean("/" + filepath.ToSlash(filepath.Clean(name)))
	if cleaned == "/" {
		return nil
	}
	return strings.Split(cleaned[1:], "/")
}

// walkLocked returns the directory reached by following components from the root.
func (m *MemFS) walkLocked(components []string) (*memNode, error) {
	dir := m.mu.root
	for _, component := range components {
		child := dir.children[component]
		switch {
		case child == nil:
			return nil, fs.ErrNotExist
		case !child.isDir:
			return nil, ErrNotDir
		}
		dir = child
	}
	return dir, nil
}

// parentLocked returns the directory holding name and name's last component, which is
// "" for the root.
func (m *MemFS) parentLocked(name string) (dir *memNode, base string, err error) {
	components := splitPath(name)
	if len(components) == 0 {
		return m.mu.root, "", nil
	}
	last := len(components) - 1
	dir, err = m.walkLocked(components[:last])
	return dir, components[last], err
}

// lookupLocked returns the node named name.
func (m *MemFS) lookupLocked(name string) (*memNode, error) {
	dir, base, err := m.parentLocked(name)
	if err != nil || base == "" {
		return dir, err
	}
	node := dir.children[base]
	if node == nil {
		return nil, fs.ErrNotExist
	}
	return node, nil
}

// OpenFile opens a file with os.OpenFile flags; see FS.
func (m *MemFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if flag&os.O_APPEND != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrAppendUnsupported}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	node, err := m.openLocked(name, flag, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	access := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	return &memFile{
		node:     node,
		name:     name,
		strict:   m.strict,
		readable: access != os.O_WRONLY,
		writable: access != os.O_RDONLY,
	}, nil
}

// openLocked finds, creates or truncates the file as flag asks.
func (m *MemFS) openLocked(name string, flag int, perm fs.FileMode) (*memNode, error) {
	dir, base, err := m.parentLocked(name)
	if err != nil {
		return nil, err
	}
	if base == "" {
		return nil, ErrIsDir
	}
	node := dir.children[base]
	switch {
	case node == nil && flag&os.O_CREATE == 0:
		return nil, fs.ErrNotExist
	case node == nil:
		node = newFileNode(perm, nil)
		dir.children[base] = node
		dir.touch()
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		return nil, fs.ErrExist
	case node.isDir:
		return nil, ErrIsDir
	case flag&os.O_TRUNC != 0:
		node.truncate(0, m.strict)
	}
	return node, nil
}

// Remove removes a file or an empty directory.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.removeLocked(name); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

func (m *MemFS) removeLocked(name string) error {
	dir, base, err := m.parentLocked(name)
	switch {
	case err != nil:
		return err
	case base == "":
		return fs.ErrInvalid // the root
	}
	node := dir.children[base]
	switch {
	case node == nil:
		return fs.ErrNotExist
	case node.isDir && len(node.children) > 0:
		return ErrNotEmpty
	}
	delete(dir.children, base)
	dir.touch()
	return nil
}

// Rename renames a file or directory, replacing newname if it is a file, or an empty
// directory when oldname is a directory.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.renameLocked(oldname, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func (m *MemFS) renameLocked(oldname, newname string) error {
	oldDir, oldBase, err := m.parentLocked(oldname)
	if err != nil {
		return err
	}
	newDir, newBase, err := m.parentLocked(newname)
	if err != nil {
		return err
	}
	if oldBase == "" || newBase == "" {
		return fs.ErrInvalid // the root
	}
	node := oldDir.children[oldBase]
	if node == nil {
		return fs.ErrNotExist
	}
	if oldDir == newDir && oldBase == newBase {
		return nil
	}
	if node.isDir {
		oldPath, newPath := splitPath(oldname), splitPath(newname)
		if len(newPath) > len(oldPath) && slices.Equal(newPath[:len(oldPath)], oldPath) {
			return fs.ErrInvalid // into its own subtree
		}
	}
	if target := newDir.children[newBase]; target != nil {
		switch {
		case target.isDir && !node.isDir:
			return ErrIsDir
		case !target.isDir && node.isDir:
			return ErrNotDir
		case target.isDir && len(target.children) > 0:
			return ErrNotEmpty
		}
	}
	delete(oldDir.children, oldBase)
	newDir.children[newBase] = node
	oldDir.touch()
	newDir.touch()
	return nil
}

// MkdirAll creates a directory and any missing parents.
func (m *MemFS) MkdirAll(name string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := m.mu.root
	for _, component := range splitPath(name) {
		child := dir.children[component]
		switch {
		case child == nil:
			child = newDirNode(perm)
			dir.children[component] = child
			dir.touch()
		case !child.isDir:
			return &fs.PathError{Op: "mkdir", Path: name, Err: ErrNotDir}
		}
		dir = child
	}
	return nil
}

// RemoveAll removes name and everything below it. A missing name is not an error.
func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parentLocked(name)
	switch {
	case err == fs.ErrNotExist:
		return nil
	case err != nil:
		return &fs.PathError{Op: "removeall", Path: name, Err: err}
	case base == "":
		return &fs.PathError{Op: "removeall", Path: name, Err: fs.ErrInvalid}
	}
	if dir.children[base] != nil {
		delete(dir.children, base)
		dir.touch()
	}
	return nil
}

// ReadDir returns the sorted names of a directory's entries.
func (m *MemFS) ReadDir(name string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	node, err := m.lookupLocked(name)
	if err == nil && !node.isDir {
		err = ErrNotDir
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdirent", Path: name, Err: err}
	}
	return slices.Sorted(maps.Keys(node.children)), nil
}

// Lstat is Stat: a MemFS has no symlinks.
func (m *MemFS) Lstat(name string) (fs.FileInfo, error) { return m.Stat(name) }

// Stat describes a file or directory.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	node, err := m.lookupLocked(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	base := "/"
	if components := splitPath(name); len(components) > 0 {
		base = components[len(components)-1]
	}
	return node.info(base), nil
}

// SyncDir makes the directory's current entries durable (in a CrashableFS).
func (m *MemFS) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	node, err := m.lookupLocked(name)
	if err == nil && !node.isDir {
		err = ErrNotDir
	}
	if err != nil {
		return &fs.PathError{Op: "sync", Path: name, Err: err}
	}
	if m.strict {
		node.durableChildren = maps.Clone(node.children)
	}
	return nil
}

// Lock takes an exclusive lock on the named file, creating it if missing. Like flock,
// the lock belongs to the file (inode), not to the name.
func (m *MemFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	node, err := m.openLocked(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err == nil && m.mu.locked[node] {
		err = ErrLocked
	}
	if err != nil {
		return nil, &fs.PathError{Op: "lock", Path: name, Err: err}
	}
	m.mu.locked[node] = true
	return &memLock{fs: m, node: node, name: name}, nil
}

// memLock is a lock taken by MemFS.Lock.
type memLock struct {
	fs     *MemFS
	node   *memNode
	name   string
	closed atomic.Bool
}

// Close releases the lock; a second Close returns fs.ErrClosed.
func (l *memLock) Close() error {
	if l.closed.Swap(true) {
		return &fs.PathError{Op: "close", Path: l.name, Err: fs.ErrClosed}
	}
	l.fs.mu.Lock()
	delete(l.fs.mu.locked, l.node)
	l.fs.mu.Unlock()
	return nil
}
