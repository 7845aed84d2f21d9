package partition_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// opCounter counts the mutating file operations (writes, fsyncs, renames,
// removals) of a file system.
type opCounter struct {
	mu  sync.Mutex
	ops map[vfs.Op]int
}

func (c *opCounter) inject(op vfs.Op, _ string) *vfs.Fault {
	switch op {
	case vfs.OpWrite, vfs.OpSync, vfs.OpSyncDir, vfs.OpRename, vfs.OpRemove, vfs.OpTruncate:
		c.mu.Lock()
		c.ops[op]++
		c.mu.Unlock()
	}
	return nil
}

func (c *opCounter) reset() map[vfs.Op]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = map[vfs.Op]int{}
	return ops
}

// Opening a cleanly closed partition, reading it and closing it again writes and
// fsyncs nothing (what makes a store of many partitions open fast); the first change
// marks the checkpoint dirty before it touches the log, so that a crash after it is
// recovered.
func TestCleanOpenWritesNothingUntilTheFirstChange(t *testing.T) {
	crash := vfs.NewCrashable()
	counter := &opCounter{ops: map[vfs.Op]int{}}
	fsys := vfs.NewFaulty(crash, counter.inject)
	opts := partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}}
	ctx := context.Background()

	p, err := openAt(fsys, opts)
	require.NoError(t, err)
	_, err = p.Append(ctx, []partition.Record{{Value: []byte("a")}, {Value: []byte("b")}})
	require.NoError(t, err)
	require.NoError(t, p.Roll())
	_, err = p.Append(ctx, []partition.Record{{Value: []byte("c")}})
	require.NoError(t, err)
	require.NoError(t, p.Close())

	counter.reset()
	p, err = openAt(fsys, opts)
	require.NoError(t, err)
	require.True(t, p.RecoveryReport().CleanShutdown)
	r := p.NewReader(0, 0)
	for want := int64(0); want < 3; want++ {
		rec, err := r.TryNext()
		require.NoError(t, err)
		require.Equal(t, want, rec.Offset)
	}
	require.NoError(t, p.Close())
	require.Empty(t, counter.reset(), "a clean open, a read and a close change no file")

	p, err = openAt(fsys, opts)
	require.NoError(t, err)
	_, err = p.Append(ctx, []partition.Record{{Value: []byte("d")}}) // SyncNone: not fsynced
	require.NoError(t, err)
	require.NotZero(t, counter.reset()[vfs.OpRename], "the first append rewrote the checkpoint (temp file, rename)")
	crash.Crash(vfs.TearGarbage, 7)
	p2, err := openAt(crash, opts)
	require.NoError(t, err)
	defer p2.Close()
	require.False(t, p2.RecoveryReport().CleanShutdown, "a crash after a change is recovered, not trusted")
	require.GreaterOrEqual(t, p2.EndOffset(), int64(3), "what was there at the clean close survives")
	p.Close()
}

// TestRecoveryReportTellsACreatedLog: a directory without a log is created, not
// recovered (the replica layer tells a new replica from one that lost records in an
// unclean shutdown); SyncPolicy returns the defaulted policy.
func TestRecoveryReportTellsACreatedLog(t *testing.T) {
	crash := vfs.NewCrashable()
	opts := partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncPeriodic, EveryRecords: 10}}
	p, err := openAt(crash, opts)
	require.NoError(t, err)
	require.True(t, p.RecoveryReport().Created)
	require.False(t, p.RecoveryReport().CleanShutdown)
	require.Equal(t, opts.Sync, p.SyncPolicy())
	_, err = p.Append(context.Background(), []partition.Record{{Value: []byte("a")}})
	require.NoError(t, err)
	image := crash.Crash(vfs.DropUnsynced, 0)
	require.NoError(t, p.Close())

	p, err = openAt(image, partition.Options{})
	require.NoError(t, err)
	require.False(t, p.RecoveryReport().Created)
	require.False(t, p.RecoveryReport().CleanShutdown)
	require.Equal(t, partition.SyncEveryAppend, p.SyncPolicy().Mode)
	require.NoError(t, p.Close())
	p, err = openAt(image, partition.Options{})
	require.NoError(t, err)
	require.False(t, p.RecoveryReport().Created)
	require.True(t, p.RecoveryReport().CleanShutdown)
	require.NoError(t, p.Close())
}
