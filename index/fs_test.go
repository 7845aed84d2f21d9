package index

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"testing"

	"github.com/stratalog/strata/vfs"
)

// countingFS wraps a vfs.FS and counts file operations.
type countingFS struct {
	vfs.FS
	mu          sync.Mutex
	writeAts    int
	syncs       int
	truncates   int
	maxReadSize int // largest ReadAt buffer seen
}

func (c *countingFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := c.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, fs: c}, nil
}

func (c *countingFS) counts() (writeAts, syncs, truncates int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeAts, c.syncs, c.truncates
}

type countingFile struct {
	vfs.File
	fs *countingFS
}

func (f *countingFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.maxReadSize = max(f.fs.maxReadSize, len(p))
	f.fs.mu.Unlock()
	return f.File.ReadAt(p, off)
}

func (f *countingFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.writeAts++
	f.fs.mu.Unlock()
	return f.File.WriteAt(p, off)
}

func (f *countingFile) Sync() error {
	f.fs.mu.Lock()
	f.fs.syncs++
	f.fs.mu.Unlock()
	return f.File.Sync()
}

func (f *countingFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	f.fs.truncates++
	f.fs.mu.Unlock()
	return f.File.Truncate(size)
}

// newTestFS returns an empty in-memory filesystem and a directory in it.
func newTestFS(t testing.TB) (vfs.FS, string) {
	t.Helper()
	fsys := vfs.NewMem()
	const dir = "/segments/orders-0"
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return fsys, dir
}

// newFaultyFS returns an in-memory filesystem whose faults the test switches on and
// off, and a directory in it.
func newFaultyFS(t testing.TB) (vfs.FS, *vfs.Switch, string) {
	t.Helper()
	mem, dir := newTestFS(t)
	faults := new(vfs.Switch)
	return vfs.NewFaulty(mem, faults.Inject), faults, dir
}

// writeFile replaces the file at path with data.
func writeFile(t testing.TB, fsys vfs.FS, path string, data []byte) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 {
		if _, err := f.WriteAt(data, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// readFile returns the contents of the file at path.
func readFile(t testing.TB, fsys vfs.FS, path string) []byte {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	if n, err := f.ReadAt(data, 0); n < len(data) || (err != nil && !errors.Is(err, io.EOF)) {
		t.Fatal(n, err)
	}
	return data
}
