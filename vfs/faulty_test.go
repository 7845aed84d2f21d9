package vfs

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFaultyWriteENOSPC(t *testing.T) {
	inner := NewMem()
	fsys := NewFaulty(inner, FailOp(OpWrite, syscall.ENOSPC))
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	n, err := f.WriteAt([]byte("data"), 0)
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Zero(t, n)
	var pathErr *fs.PathError
	require.ErrorAs(t, err, &pathErr)
	require.Equal(t, "write", pathErr.Op)
	require.Equal(t, "f", pathErr.Path)
	require.Empty(t, readInner(t, inner, "f"), "a failed write writes nothing")
	require.NoError(t, f.Close())
}

func TestFaultySyncEIO(t *testing.T) {
	inner := NewCrashable()
	fsys := NewFaulty(inner, FailOp(OpSync, syscall.EIO))
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("data"), 0)
	require.NoError(t, err)
	require.ErrorIs(t, f.Sync(), syscall.EIO)
	require.NoError(t, inner.SyncDir("/"))
	require.EqualValues(t, 4, inner.UnsyncedBytes(), "a failed sync makes nothing durable")
	require.Empty(t, readInner(t, inner.Crash(DropUnsynced, 1), "f"))
}

func TestFaultyShortWriteWritesHalf(t *testing.T) {
	inner := NewMem()
	fsys := NewFaulty(inner, ShortWriteAfter(1, syscall.ENOSPC))
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	defer f.Close()

	n, err := f.WriteAt([]byte("first"), 0)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	n, err = f.WriteAt([]byte("0123456789"), 5)
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Equal(t, 5, n)
	require.Equal(t, []byte("first01234"), readInner(t, inner, "f"))

	n, err = f.WriteAt([]byte("abc"), 10)
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Equal(t, 1, n)
}

func TestFaultyFailAfterCounts(t *testing.T) {
	fsys := NewFaulty(NewMem(), FailAfter(OpOpen, 2, syscall.EMFILE))
	for i := range 2 {
		f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
		require.NoError(t, err, "open %d", i)
		require.NoError(t, f.Close())
	}
	for range 3 {
		_, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
		require.ErrorIs(t, err, syscall.EMFILE)
	}
	_, err := fsys.Stat("f")
	require.NoError(t, err, "other operations are not counted")
}

func TestFaultyFailAfterConcurrent(t *testing.T) {
	const goroutines, allowed = 8, 10
	fsys := NewFaulty(NewMem(), FailAfter(OpStat, allowed, syscall.EIO))
	require.NoError(t, fsys.MkdirAll("d", 0o755))
	var mu sync.Mutex
	succeeded := 0
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range 5 {
				if _, err := fsys.Stat("d"); err == nil {
					mu.Lock()
					succeeded++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, allowed, succeeded)
}

func TestFaultyMatchAndSwitch(t *testing.T) {
	var faults Switch
	inner := NewMem()
	fsys := NewFaulty(inner, faults.Inject)
	segment, err := fsys.OpenFile("00000000000000000000.log", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	defer segment.Close()
	index, err := fsys.OpenFile("00000000000000000000.index", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	defer index.Close()

	faults.Set(Match(".log", FailOp(OpWrite, syscall.EIO)))
	_, err = segment.WriteAt([]byte("x"), 0)
	require.ErrorIs(t, err, syscall.EIO)
	_, err = index.WriteAt([]byte("x"), 0)
	require.NoError(t, err)

	faults.Set(nil)
	_, err = segment.WriteAt([]byte("x"), 0)
	require.NoError(t, err)
}

func TestFaultyEveryOperation(t *testing.T) {
	calls := []struct {
		op  Op
		run func(fsys FS, f File) error
	}{
		{OpOpen, func(fsys FS, _ File) error { _, err := fsys.OpenFile("d/f", os.O_RDWR, 0); return err }},
		{OpRead, func(_ FS, f File) error { _, err := f.ReadAt(make([]byte, 1), 0); return err }},
		{OpWrite, func(_ FS, f File) error { _, err := f.WriteAt([]byte("x"), 0); return err }},
		{OpSync, func(_ FS, f File) error { return f.Sync() }},
		{OpTruncate, func(_ FS, f File) error { return f.Truncate(0) }},
		{OpStat, func(_ FS, f File) error { _, err := f.Size(); return err }},
		{OpClose, func(_ FS, f File) error { return f.Close() }},
		{OpRemove, func(fsys FS, _ File) error { return fsys.Remove("d/f") }},
		{OpRename, func(fsys FS, _ File) error { return fsys.Rename("d/f", "d/g") }},
		{OpMkdir, func(fsys FS, _ File) error { return fsys.MkdirAll("d/e", 0o755) }},
		{OpRemoveAll, func(fsys FS, _ File) error { return fsys.RemoveAll("d") }},
		{OpReadDir, func(fsys FS, _ File) error { _, err := fsys.ReadDir("d"); return err }},
		{OpStat, func(fsys FS, _ File) error { _, err := fsys.Stat("d/f"); return err }},
		{OpSyncDir, func(fsys FS, _ File) error { return fsys.SyncDir("d") }},
		{OpLock, func(fsys FS, _ File) error { _, err := fsys.Lock("d/f"); return err }},
	}
	for _, call := range calls {
		t.Run(call.op.String(), func(t *testing.T) {
			var faults Switch
			inner := NewMem()
			fsys := NewFaulty(inner, faults.Inject)
			require.NoError(t, fsys.MkdirAll("d", 0o755))
			f, err := fsys.OpenFile("d/f", os.O_RDWR|os.O_CREATE, 0o644)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("data"), 0)
			require.NoError(t, err)

			faults.Set(FailOp(call.op, nil))
			err = call.run(fsys, f)
			require.ErrorIs(t, err, ErrInjected)
			require.Contains(t, err.Error(), call.op.String())
			require.Equal(t, []byte("data"), readInner(t, inner, "d/f"), "the inner file system is untouched")
		})
	}
	require.Equal(t, "Op(0)", Op(0).String())
}

func TestFaultyCloseStillCloses(t *testing.T) {
	inner := NewMem()
	fsys := NewFaulty(inner, FailOp(OpClose, syscall.EIO))
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	require.ErrorIs(t, f.Close(), syscall.EIO)
	_, err = f.WriteAt([]byte("x"), 0)
	require.True(t, errors.Is(err, fs.ErrClosed), "got %v", err)
}

func TestFaultyWriteFileAtomicLeavesOldContent(t *testing.T) {
	var faults Switch
	inner := NewMem()
	fsys := NewFaulty(inner, faults.Inject)
	require.NoError(t, WriteFileAtomic(fsys, "meta", []byte("v1")))
	for _, op := range []Op{OpOpen, OpWrite, OpSync, OpClose, OpRename} {
		faults.Set(FailOp(op, syscall.EIO))
		require.ErrorIs(t, WriteFileAtomic(fsys, "meta", []byte("v2")), syscall.EIO, "%v", op)
		faults.Set(nil)
		require.Equal(t, []byte("v1"), readInner(t, inner, "meta"), "%v", op)
		names, err := inner.ReadDir("/")
		require.NoError(t, err)
		require.Equal(t, []string{"meta"}, names, "%v: temporary file removed", op)
	}
}

func readInner(t *testing.T, fsys FS, name string) []byte {
	t.Helper()
	data, err := ReadFile(fsys, name)
	require.NoError(t, err)
	return data
}
