package partition_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// Write returns once the batch is written to the OS, before its fsync; readers see
// it once the background fsync completes, and then it survives a crash.
func TestWriteReturnsBeforeFsync(t *testing.T) {
	crash := vfs.NewCrashable()
	var hold atomic.Bool
	release := make(chan struct{})
	fsys := vfs.NewFaulty(crash, func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpSync && strings.HasSuffix(path, ".log") && hold.Load() {
			<-release
		}
		return nil
	})
	p, err := openAt(fsys, partition.Options{})
	require.NoError(t, err)
	ctx := context.Background()

	hold.Store(true)
	base, err := p.Write(ctx, []partition.Record{{Value: []byte("a")}})
	require.NoError(t, err)
	require.Equal(t, int64(0), base)
	require.Equal(t, int64(1), p.WrittenOffset())
	require.Equal(t, int64(0), p.EndOffset(), "readable before its fsync")
	base, err = p.Write(ctx, []partition.Record{{Value: []byte("b")}})
	require.NoError(t, err)
	require.Equal(t, int64(1), base)

	hold.Store(false)
	close(release)
	require.NoError(t, p.Wait(ctx, 1))
	recs, err := p.Read(0, 0, 0)
	require.NoError(t, err)
	require.Len(t, recs, 2)

	crash.Crash(vfs.DropUnsynced, 1)
	p2, err := openAt(crash, partition.Options{})
	require.NoError(t, err)
	defer p2.Close()
	require.Equal(t, int64(2), p2.EndOffset(), "records made readable by the background fsync were durable")
}

// Close waits for a background fsync and makes everything written durable.
func TestWriteThenClose(t *testing.T) {
	fsys := vfs.NewMem()
	p, err := openAt(fsys, partition.Options{})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 100 {
		base, err := p.Write(ctx, []partition.Record{{Value: []byte("x")}})
		require.NoError(t, err)
		require.Equal(t, int64(i), base)
	}
	require.NoError(t, p.Close())
	_, err = p.Write(ctx, []partition.Record{{Value: []byte("x")}})
	require.ErrorIs(t, err, partition.ErrClosed)
	p, err = openAt(fsys, partition.Options{})
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, int64(100), p.EndOffset())
	require.True(t, p.RecoveryReport().CleanShutdown)
}
