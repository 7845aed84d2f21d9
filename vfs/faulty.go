package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
)

// Op names a file system operation, for fault injection.
type Op int

// Operations that an Injector sees. File.Size and FS.Lstat are reported as OpStat.
const (
	OpOpen Op = iota + 1
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpClose
	OpRemove
	OpRename
	OpMkdir
	OpRemoveAll
	OpReadDir
	OpStat
	OpSyncDir
	OpLock
)

var opNames = [...]string{
	OpOpen:      "open",
	OpRead:      "read",
	OpWrite:     "write",
	OpSync:      "sync",
	OpTruncate:  "truncate",
	OpClose:     "close",
	OpRemove:    "remove",
	OpRename:    "rename",
	OpMkdir:     "mkdir",
	OpRemoveAll: "removeall",
	OpReadDir:   "readdir",
	OpStat:      "stat",
	OpSyncDir:   "syncdir",
	OpLock:      "lock",
}

// String returns the operation's name, such as "write".
func (op Op) String() string {
	if op > 0 && int(op) < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// Fault is what an Injector makes an operation do instead of succeeding.
type Fault struct {
	// Err is returned by the operation, wrapped in an *fs.PathError naming the
	// operation and path (e.g. syscall.ENOSPC, syscall.EIO). Nil means ErrInjected.
	Err error
	// ShortWrite, for OpWrite, writes the first half of the bytes (len(p)/2) to the
	// inner file before returning that count and Err. Other operations ignore it.
	ShortWrite bool
}

// Injector decides, before each operation, whether it fails. It returns nil to let
// the operation run normally. path is the name the operation was called with (for
// file operations, the name the file was opened with; for OpRename, the old name). An
// Injector is called from every goroutine using the file system, so it must be safe
// for concurrent use.
type Injector func(op Op, path string) *Fault

// FailOp returns an Injector that fails every op with err.
func FailOp(op Op, err error) Injector {
	return func(got Op, _ string) *Fault {
		if got != op {
			return nil
		}
		return &Fault{Err: err}
	}
}

// FailAfter returns an Injector that lets the first n calls of op succeed and fails
// every later one with err. It is safe for concurrent use.
func FailAfter(op Op, n int, err error) Injector {
	var count atomic.Int64
	return func(got Op, _ string) *Fault {
		if got != op || count.Add(1) <= int64(n) {
			return nil
		}
		return &Fault{Err: err}
	}
}

// ShortWriteAfter returns an Injector that lets the first n writes succeed and makes
// every later one a short write (half the bytes written) returning err. It is safe
// for concurrent use.
func ShortWriteAfter(n int, err error) Injector {
	var count atomic.Int64
	return func(got Op, _ string) *Fault {
		if got != OpWrite || count.Add(1) <= int64(n) {
			return nil
		}
		return &Fault{Err: err, ShortWrite: true}
	}
}

// Match returns an Injector that consults inj only for paths containing
// pathSubstring; other paths never fail, and do not count towards FailAfter.
func Match(pathSubstring string, inj Injector) Injector {
	return func(op Op, path string) *Fault {
		if !strings.Contains(path, pathSubstring) {
			return nil
		}
		return inj(op, path)
	}
}

// Switch is an Injector that can be changed while the file system is in use, so that
// a test can let some operations succeed and then turn faults on:
//
//	var faults vfs.Switch
//	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
//	f, _ := fsys.OpenFile("x", os.O_RDWR|os.O_CREATE, 0o644)
//	faults.Set(vfs.FailOp(vfs.OpWrite, syscall.ENOSPC))
//	_, err := f.WriteAt(data, 0) // ENOSPC
//
// The zero Switch injects nothing. It is safe for concurrent use.
type Switch struct {
	current atomic.Pointer[Injector]
}

// Set makes inj the injector in use; nil turns faults off.
func (s *Switch) Set(inj Injector) {
	if inj == nil {
		s.current.Store(nil)
		return
	}
	s.current.Store(&inj)
}

// Inject is an Injector that calls the injector last Set, if any.
func (s *Switch) Inject(op Op, path string) *Fault {
	inj := s.current.Load()
	if inj == nil {
		return nil
	}
	return (*inj)(op, path)
}

// NewFaulty returns an FS that runs every operation on inner unless inject returns a
// Fault for it. A failed operation does nothing to inner, except a short write, which
// writes half, and a failed Close, which still closes the inner file (a failed close
// releases the descriptor too). Files opened through the returned FS inject faults on
// their own operations. A nil inject injects nothing.
func NewFaulty(inner FS, inject Injector) FS {
	if inject == nil {
		inject = func(Op, string) *Fault { return nil }
	}
	return &faultyFS{inner: inner, inject: inject}
}

// faultyFS is the FS returned by NewFaulty.
type faultyFS struct {
	inner  FS
	inject Injector
}

// check returns the error of an injected fault for op on path, or nil.
func (f *faultyFS) check(op Op, path string) error {
	fault := f.inject(op, path)
	if fault == nil {
		return nil
	}
	return fault.err(op, path)
}

// err is the error that a fault makes op on path return.
func (fault *Fault) err(op Op, path string) error {
	err := fault.Err
	if err == nil {
		err = ErrInjected
	}
	return &fs.PathError{Op: op.String(), Path: path, Err: err}
}

func (f *faultyFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if err := f.check(OpOpen, name); err != nil {
		return nil, err
	}
	file, err := f.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{inner: file, inject: f.inject}, nil
}

func (f *faultyFS) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return err
	}
	return f.inner.Remove(name)
}

func (f *faultyFS) Rename(oldname, newname string) error {
	if fault := f.inject(OpRename, oldname); fault != nil {
		err := fault.Err
		if err == nil {
			err = ErrInjected
		}
		return &os.LinkError{Op: OpRename.String(), Old: oldname, New: newname, Err: err}
	}
	return f.inner.Rename(oldname, newname)
}

func (f *faultyFS) MkdirAll(name string, perm fs.FileMode) error {
	if err := f.check(OpMkdir, name); err != nil {
		return err
	}
	return f.inner.MkdirAll(name, perm)
}

func (f *faultyFS) RemoveAll(name string) error {
	if err := f.check(OpRemoveAll, name); err != nil {
		return err
	}
	return f.inner.RemoveAll(name)
}

func (f *faultyFS) ReadDir(name string) ([]string, error) {
	if err := f.check(OpReadDir, name); err != nil {
		return nil, err
	}
	return f.inner.ReadDir(name)
}

func (f *faultyFS) Stat(name string) (fs.FileInfo, error) {
	if err := f.check(OpStat, name); err != nil {
		return nil, err
	}
	return f.inner.Stat(name)
}

func (f *faultyFS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.check(OpStat, name); err != nil {
		return nil, err
	}
	return f.inner.Lstat(name)
}

func (f *faultyFS) SyncDir(name string) error {
	if err := f.check(OpSyncDir, name); err != nil {
		return err
	}
	return f.inner.SyncDir(name)
}

func (f *faultyFS) Lock(name string) (io.Closer, error) {
	if err := f.check(OpLock, name); err != nil {
		return nil, err
	}
	return f.inner.Lock(name)
}

// faultyFile is a File opened through a faultyFS.
type faultyFile struct {
	inner  File
	inject Injector
}

func (f *faultyFile) check(op Op) error {
	fault := f.inject(op, f.inner.Name())
	if fault == nil {
		return nil
	}
	return fault.err(op, f.inner.Name())
}

func (f *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check(OpRead); err != nil {
		return 0, err
	}
	return f.inner.ReadAt(p, off)
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	fault := f.inject(OpWrite, f.inner.Name())
	if fault == nil {
		return f.inner.WriteAt(p, off)
	}
	if !fault.ShortWrite {
		return 0, fault.err(OpWrite, f.inner.Name())
	}
	n, err := f.inner.WriteAt(p[:len(p)/2], off)
	if err != nil {
		return n, err
	}
	return n, fault.err(OpWrite, f.inner.Name())
}

func (f *faultyFile) Sync() error {
	if err := f.check(OpSync); err != nil {
		return err
	}
	return f.inner.Sync()
}

func (f *faultyFile) Truncate(size int64) error {
	if err := f.check(OpTruncate); err != nil {
		return err
	}
	return f.inner.Truncate(size)
}

func (f *faultyFile) Size() (int64, error) {
	if err := f.check(OpStat); err != nil {
		return 0, err
	}
	return f.inner.Size()
}

func (f *faultyFile) Close() error {
	if err := f.check(OpClose); err != nil {
		f.inner.Close()
		return err
	}
	return f.inner.Close()
}

func (f *faultyFile) Name() string { return f.inner.Name() }
