package index

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// indexFile is the file side shared by OffsetIndex and TimeIndex: which entries are
// already on disk, the sticky error, and the file operations. The entries themselves
// live in the owning index.
type indexFile struct {
	fsys vfs.FS
	path string
	// file is the open file, or nil while parked: between writes the file is closed
	// (its entries are in memory), so that a store of many segments does not hold
	// two descriptors per segment for its indexes. Writes reopen it.
	file   vfs.File
	closed bool // by Close or Remove: every write is ErrClosed
	// unsynced says the file changed (created empty over an old one, or truncated)
	// since its last fsync, even if nothing is left to write: sync fsyncs it.
	unsynced  bool
	entrySize int
	// flushed is how many leading entries the file holds; entries at and after it
	// exist only in memory until the next Flush.
	flushed int
	// err is the first write, truncate or fsync failure. Once set, the index refuses
	// further writes (bufio.Writer's rule; never retry an fsync), and Close empties the
	// file so that a stale or torn file is never trusted.
	err error
	// scratch is reused by Flush to encode new entries.
	scratch []byte
}

// fileMode is the permission of created index files (before umask).
const fileMode fs.FileMode = 0o644

// readChunkBytes is how much a load reads per ReadAt: a multiple of both entry sizes,
// so that no entry straddles two reads.
const readChunkBytes = 2730 * 24 // 65,520

// openIndexFile opens (creating if missing) or, with truncate, creates the file at path.
// It checks that the file is no bigger than maxEntries entries before anything is read.
func openIndexFile(fsys vfs.FS, path string, entrySize, maxEntries int, truncate bool) (*indexFile, int64, error) {
	flag := os.O_RDWR | os.O_CREATE
	if truncate {
		flag |= os.O_TRUNC
	}
	file, err := fsys.OpenFile(path, flag, fileMode)
	if err != nil {
		return nil, 0, errorf("strata/index: %w", err)
	}
	size, err := file.Size()
	if err != nil {
		_ = file.Close()
		return nil, 0, errorf("strata/index: size: %w", err)
	}
	if limit := int64(maxEntries) * int64(entrySize); size > limit {
		_ = file.Close()
		return nil, 0, errs.Corruptf(path, limit, "file size %d exceeds the maximum of %d bytes", size, limit)
	}
	return &indexFile{fsys: fsys, path: path, file: file, entrySize: entrySize, unsynced: truncate}, size, nil
}

// load reads the size bytes of whole entries from the file in chunks, calling decode
// with each chunk (a multiple of entrySize bytes) and the file position where it
// starts. decode returns the first structural error.
func (f *indexFile) load(size int64, decode func(chunk []byte, position int64) error) error {
	buf := make([]byte, min(size, readChunkBytes))
	for position := int64(0); position < size; {
		chunk := buf[:min(size-position, int64(len(buf)))]
		n, err := f.file.ReadAt(chunk, position)
		if n < len(chunk) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return errorf("strata/index: load %s at byte %d: %w", f.path, position+int64(n), err)
		}
		if err := decode(chunk, position); err != nil {
			return err
		}
		position += int64(len(chunk))
	}
	return nil
}

// checkWritable returns ErrClosed or the sticky error.
func (f *indexFile) checkWritable() error {
	if f.closed {
		return ErrClosed
	}
	return f.err
}

// handle returns the open file, reopening it if parked.
func (f *indexFile) handle() (vfs.File, error) {
	if f.file == nil {
		file, err := f.fsys.OpenFile(f.path, os.O_RDWR, fileMode)
		if err != nil {
			return nil, f.fail(errorf("strata/index: reopen: %w", err))
		}
		f.file = file
	}
	return f.file, nil
}

// park closes the file until the next write (see indexFile.file). A failed index
// keeps its file open: Close empties it.
func (f *indexFile) park() error {
	if f.file == nil || f.err != nil {
		return f.err
	}
	err := f.file.Close()
	f.file = nil
	if err != nil {
		return f.fail(errorf("strata/index: %w", err))
	}
	return nil
}

// fail records err as the sticky error and returns it.
func (f *indexFile) fail(err error) error {
	if f.err == nil {
		f.err = err
	}
	return err
}

// grow returns a buffer for n encoded entries: the reused scratch buffer, or for a
// flush bigger than readChunkBytes (a rebuilt index) a one-off buffer, so that an
// index does not keep megabytes of scratch for its lifetime.
func (f *indexFile) grow(n int) []byte {
	size := n * f.entrySize
	if size > readChunkBytes {
		return make([]byte, size)
	}
	if cap(f.scratch) < size {
		f.scratch = make([]byte, size, max(size, 64*f.entrySize))
	}
	return f.scratch[:size]
}

// writeTail writes the encoded entries b, which follow the flushed ones, with one
// WriteAt.
func (f *indexFile) writeTail(b []byte) error {
	position := int64(f.flushed) * int64(f.entrySize)
	file, err := f.handle()
	if err != nil {
		return err
	}
	f.unsynced = true
	if _, err := file.WriteAt(b, position); err != nil {
		return f.fail(errorf("strata/index: flush %d entries at byte %d: %w", len(b)/f.entrySize, position, err))
	}
	f.flushed += len(b) / f.entrySize
	return nil
}

// truncate makes the file hold at most n entries. The caller has already cut the
// in-memory entries to n, which stands even if this fails.
func (f *indexFile) truncate(n int) error {
	if err := f.checkWritable(); err != nil {
		return err
	}
	if n >= f.flushed {
		return nil
	}
	size := int64(n) * int64(f.entrySize)
	file, err := f.handle()
	if err != nil {
		return err
	}
	f.unsynced = true
	if err := file.Truncate(size); err != nil {
		return f.fail(errorf("strata/index: truncate to %d entries: %w", n, err))
	}
	f.flushed = n
	return nil // stays open: the next sync fsyncs the truncation
}

// sync fsyncs the file, then parks it; the caller has flushed (through the same
// open file, if anything was written since the last park).
func (f *indexFile) sync() error {
	if !f.unsynced {
		return f.err // nothing changed since the last fsync, or since the load
	}
	file, err := f.handle()
	if err != nil {
		return err
	}
	if err := file.Sync(); err != nil {
		return f.fail(errorf("strata/index: %w", err))
	}
	f.unsynced = false
	return f.park()
}

// close closes the file once, after the caller's flush returned flushErr. After any
// write failure it first empties the file (best effort): an empty index is always a
// correct one, a torn or stale one may not be.
func (f *indexFile) close(flushErr error) error {
	if f.closed {
		return nil
	}
	f.closed = true
	err := flushErr
	if f.err != nil {
		if file, openErr := f.handle(); openErr == nil {
			_ = file.Truncate(0)
		}
		if err == nil {
			err = f.err
		}
	}
	if f.file != nil {
		if closeErr := f.file.Close(); closeErr != nil && err == nil {
			err = errorf("strata/index: %w", closeErr)
		}
		f.file = nil
	}
	return err
}

// rename renames the file, open or closed.
func (f *indexFile) rename(newPath string) error {
	if err := f.fsys.Rename(f.path, newPath); err != nil {
		return errorf("strata/index: %w", err)
	}
	f.path = newPath
	return nil
}

// remove closes the file without flushing and deletes it; a missing file is not an
// error.
func (f *indexFile) remove() error {
	var err error
	f.closed = true
	if f.file != nil {
		if closeErr := f.file.Close(); closeErr != nil {
			err = errorf("strata/index: %w", closeErr)
		}
		f.file = nil
	}
	if removeErr := f.fsys.Remove(f.path); removeErr != nil && !errors.Is(removeErr, fs.ErrNotExist) && err == nil {
		err = errorf("strata/index: %w", removeErr)
	}
	return err
}
