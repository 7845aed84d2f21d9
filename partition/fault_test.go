package partition_test

// Failures of the disk, through vfs.NewFaulty: ENOSPC on a write, EIO on an fsync
// that a whole group commit waits for, short writes, failures while rolling a segment
// and while checkpointing a new start offset. After a write or fsync failure a
// partition fails closed: every call returns the error, no fsync is ever attempted
// again (it could falsely succeed once the kernel has dropped the dirty pages), and
// reopening recovers exactly what was acknowledged.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// syncCounter is an Injector that passes every operation to a Switch and, once
// counting, counts the fsyncs (of files and of directories) that are attempted.
type syncCounter struct {
	faults   vfs.Switch
	counting atomic.Bool
	syncs    atomic.Int64
	last     atomic.Pointer[string]
}

func (c *syncCounter) inject(op vfs.Op, path string) *vfs.Fault {
	if c.counting.Load() && (op == vfs.OpSync || op == vfs.OpSyncDir) {
		c.syncs.Add(1)
		c.last.Store(&path)
	}
	return c.faults.Inject(op, path)
}

// requireNoSyncs checks that no fsync was attempted since counting started.
func (c *syncCounter) requireNoSyncs(t testing.TB) {
	t.Helper()
	if n := c.syncs.Load(); n > 0 {
		t.Fatalf("%d fsyncs attempted after the partition failed (the last of %s): an fsync must never be retried", n, *c.last.Load())
	}
}

// requireFailedClosed checks that p refuses every change with an error wrapping
// cause, and still serves reads of every acknowledged record (a full disk must not
// make them unreadable until a reopen).
func requireFailedClosed(t testing.TB, p *partition.Partition, cause error) {
	t.Helper()
	ctx := context.Background()
	require.ErrorIs(t, p.Err(), cause, "Err")
	_, err := p.Append(ctx, []partition.Record{{Value: []byte("after-failure"), Timestamp: 1}})
	require.ErrorIs(t, err, cause, "Append")
	_, err = p.AppendBatch(ctx, encodeBatch(t, 0, partition.Record{Value: []byte("after-failure"), Timestamp: 1}))
	require.ErrorIs(t, err, cause, "AppendBatch")
	end := p.EndOffset()
	require.Equal(t, end-p.StartOffset(), readAll(t, p, p.StartOffset()), "acknowledged records read after the failure")
	_, err = p.ReadBatches(nil, p.StartOffset(), 0)
	require.NoError(t, err, "ReadBatches")
	if end > p.StartOffset() {
		_, err = p.Locate(end - 1)
		require.NoError(t, err, "Locate")
		require.NoError(t, p.Wait(ctx, end-1), "Wait for a record there is")
	}
	_, _, err = p.OffsetForTime(0)
	require.NoError(t, err, "OffsetForTime")
	require.ErrorIs(t, p.Wait(ctx, end), cause, "Wait for a record that will never come")
	require.ErrorIs(t, p.Roll(), cause, "Roll")
	require.ErrorIs(t, p.DeleteRecordsBefore(1), cause, "DeleteRecordsBefore")
	_, err = p.TruncateTo(1)
	require.ErrorIs(t, err, cause, "TruncateTo")
	_, err = p.ApplyRetention()
	require.ErrorIs(t, err, cause, "ApplyRetention")
	if err := p.Sync(ctx); !errors.Is(err, cause) {
		// Not fatal, so that the checks after this one still run.
		t.Errorf("Sync on a failed partition returned %v, want an error wrapping %v: a caller would take the failed write for durable", err, cause)
	}
}

// reopenAndCheck opens the partition on fsys and checks that the acknowledged records
// (value(o) for o below acked) are all there, that nothing else is, and that it takes
// appends again. It returns the recovery report.
func reopenAndCheck(t testing.TB, fsys vfs.FS, opts partition.Options, acked int64) partition.RecoveryReport {
	t.Helper()
	p := open(t, fsys, opts)
	defer p.Close()
	require.False(t, p.RecoveryReport().CleanShutdown, "a partition that failed must not record a clean shutdown")
	require.Equal(t, acked, p.EndOffset())
	require.Equal(t, acked, readAll(t, p, 0))
	appendN(t, p, 20, 4)
	return p.RecoveryReport()
}

// TestFaultENOSPCFailsClosed: a write of the .log fails with ENOSPC. The Append
// returns it, the partition fails closed for good (even once space is back), attempts
// no fsync, and reopening finds every acknowledged record.
func TestFaultENOSPCFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   partition.Options
		before vfs.Injector // from Open on
		after  vfs.Injector // after the acknowledged appends
	}{
		{
			name:   "FailAfter-100-writes-of-first-log",
			before: vfs.Match(segment.FileName(0, segment.LogSuffix), vfs.FailAfter(vfs.OpWrite, 100, syscall.ENOSPC)),
		},
		{
			name:  "Switch-after-rolls",
			opts:  partition.Options{SegmentBytes: 8 << 10},
			after: vfs.Match(segment.LogSuffix, vfs.FailOp(vfs.OpWrite, syscall.ENOSPC)),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			var c syncCounter
			c.faults.Set(tc.before)
			p := open(t, vfs.NewFaulty(mem, c.inject), tc.opts)
			appendN(t, p, 300, 3) // 100 appends, acknowledged
			if tc.after != nil {
				c.faults.Set(tc.after)
			}
			_, err := p.Append(context.Background(), []partition.Record{{Value: []byte("no-space"), Timestamp: 1}})
			require.ErrorIs(t, err, syscall.ENOSPC)
			c.counting.Store(true)
			requireFailedClosed(t, p, syscall.ENOSPC)
			c.faults.Set(nil) // space is back: the partition stays failed until reopened
			requireFailedClosed(t, p, syscall.ENOSPC)
			_ = p.Close()
			c.requireNoSyncs(t)
			reopenAndCheck(t, mem, tc.opts, 300)
		})
	}
}

// commitGate holds .log operations so that a test can line up a group commit: it holds
// the next fsync of a .log (the group commit leader's) until told how it ends, and,
// while holdWrites is set, holds each .log write until released.
type commitGate struct {
	syncCounter
	holdSync   atomic.Bool
	holdWrites atomic.Bool
	syncHeld   chan struct{}
	syncResult chan error
	writeHeld  chan struct{}
	writeGo    chan struct{}
}

func newCommitGate() *commitGate {
	return &commitGate{
		syncHeld: make(chan struct{}), syncResult: make(chan error),
		writeHeld: make(chan struct{}), writeGo: make(chan struct{}),
	}
}

func (g *commitGate) inject(op vfs.Op, path string) *vfs.Fault {
	if strings.HasSuffix(path, segment.LogSuffix) {
		switch {
		case op == vfs.OpWrite && g.holdWrites.Load():
			g.writeHeld <- struct{}{}
			<-g.writeGo
		case op == vfs.OpSync && g.holdSync.CompareAndSwap(true, false):
			g.syncHeld <- struct{}{}
			if err := <-g.syncResult; err != nil {
				return &vfs.Fault{Err: err}
			}
		}
	}
	return g.syncCounter.inject(op, path)
}

// TestFaultEIOOnGroupCommit: the fsync of a group commit fails with EIO while the
// leader and several appenders whose batches it covers wait for it, and one more
// appender is writing. Every one of them gets an error (none is acknowledged), the
// fsync is never retried, and reopening recovers what was acknowledged before.
func TestFaultEIOOnGroupCommit(t *testing.T) {
	const waiting = 5
	mem := vfs.NewMem()
	g := newCommitGate()
	p := open(t, vfs.NewFaulty(mem, g.inject), partition.Options{})
	appendN(t, p, 50, 5)

	results := make(chan error, waiting+2)
	appendOne := func(name string) {
		_, err := p.Append(context.Background(), []partition.Record{{Value: []byte(name), Timestamp: 1}})
		results <- err
	}
	g.holdSync.Store(true)
	go appendOne("leader")
	<-g.syncHeld // the leader wrote its batch and is fsyncing it
	g.holdWrites.Store(true)
	go appendOne("waiter-0")
	<-g.writeHeld
	for i := 1; i <= waiting; i++ {
		go appendOne(fmt.Sprintf("waiter-%d", i)) // queues behind waiter i-1's write
		g.writeGo <- struct{}{}                   // waiter i-1 writes, then waits for the fsync
		<-g.writeHeld                             // waiter i is writing: waiter i-1 has written
	}
	// Waiters 0..waiting-1 wait for the leader's fsync; waiter "waiting" is writing.
	g.counting.Store(true)
	g.syncResult <- syscall.EIO
	g.holdWrites.Store(false)
	g.writeGo <- struct{}{}
	for range waiting + 2 {
		err := <-results
		require.ErrorIs(t, err, syscall.EIO, "an append covered by a failed fsync was acknowledged")
	}
	requireFailedClosed(t, p, syscall.EIO)
	_ = p.Close()
	g.requireNoSyncs(t)

	// The unacknowledged batches are whole in the page cache (here: MemFS), so they
	// may come back; the acknowledged ones must.
	q := open(t, mem, partition.Options{})
	defer q.Close()
	acked := map[int64]string{}
	attempted := map[string]bool{"leader": true}
	for o := range int64(50) {
		acked[o] = string(value(o))
	}
	for i := range waiting + 1 {
		attempted[fmt.Sprintf("waiter-%d", i)] = true
	}
	verifyRecovered(t, q, acked, attempted)
	appendAfterRecovery(t, q)
}

// TestFaultShortWrite: half a batch reaches the .log before the write fails. The
// partition fails closed; reopening cuts exactly the half batch, reports it, and finds
// every acknowledged record.
func TestFaultShortWrite(t *testing.T) {
	mem := vfs.NewMem()
	var c syncCounter
	opts := partition.Options{SegmentBytes: 8 << 10}
	p := open(t, vfs.NewFaulty(mem, c.inject), opts)
	appendN(t, p, 200, 4)
	bases := diskSegmentBases(t, mem)
	last := segment.LogPath(partitionDir, bases[len(bases)-1])
	size := diskSize(t, mem, last)

	c.faults.Set(vfs.Match(segment.LogSuffix, vfs.ShortWriteAfter(0, syscall.EIO)))
	records := []partition.Record{
		{Value: []byte(strings.Repeat("a", 100)), Timestamp: 1},
		{Value: []byte(strings.Repeat("b", 100)), Timestamp: 1},
	}
	_, err := p.Append(context.Background(), records)
	require.ErrorIs(t, err, syscall.EIO)
	c.counting.Store(true)
	batch := encodeBatch(t, 200, records...)
	require.Equal(t, size+int64(len(batch)/2), diskSize(t, mem, last), "half the batch landed")
	requireFailedClosed(t, p, syscall.EIO)
	_ = p.Close()
	c.requireNoSyncs(t)

	report := reopenAndCheck(t, mem, opts, 200)
	require.Len(t, report.Truncated, 1)
	tr := report.Truncated[0]
	require.Equal(t, last, tr.Path)
	require.Equal(t, size, tr.Position)
	require.Equal(t, int64(len(batch)/2), tr.Bytes)
}

// TestFaultDuringRoll: rolling to a new segment fails at each of its steps (sealing
// the old segment, creating the new files, fsyncing the directory, checkpointing the
// recovery point), whether the roll is asked for or made by an append. The partition
// fails closed and reopens with every acknowledged record.
func TestFaultDuringRoll(t *testing.T) {
	const preload = 1000
	opts := partition.Options{SegmentBytes: 8 << 10}
	for _, tc := range []struct {
		name   string
		inject func(next int64) vfs.Injector // next: the base of the segment to create
		append bool                          // roll by appending rather than by Roll
	}{
		{"seal-fsync-index", func(int64) vfs.Injector {
			return vfs.Match(segment.IndexSuffix, vfs.FailOp(vfs.OpSync, syscall.EIO))
		}, false},
		{"create-log", func(next int64) vfs.Injector {
			return vfs.Match(segment.FileName(next, segment.LogSuffix), vfs.FailOp(vfs.OpOpen, syscall.EIO))
		}, false},
		{"create-index", func(next int64) vfs.Injector {
			return vfs.Match(segment.FileName(next, segment.IndexSuffix), vfs.FailOp(vfs.OpOpen, syscall.EIO))
		}, false},
		{"create-timeindex", func(next int64) vfs.Injector {
			return vfs.Match(segment.FileName(next, segment.TimeIndexSuffix), vfs.FailOp(vfs.OpOpen, syscall.EIO))
		}, false},
		{"syncdir", func(int64) vfs.Injector { return vfs.FailOp(vfs.OpSyncDir, syscall.EIO) }, false},
		{"checkpoint-rename", func(int64) vfs.Injector {
			return vfs.Match(partition.CheckpointFile, vfs.FailOp(vfs.OpRename, syscall.EIO))
		}, false},
		{"append-create-log", func(int64) vfs.Injector {
			return vfs.Match(segment.LogSuffix, vfs.FailOp(vfs.OpOpen, syscall.EIO))
		}, true},
		{"append-syncdir", func(int64) vfs.Injector { return vfs.FailOp(vfs.OpSyncDir, syscall.EIO) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			var c syncCounter
			p := open(t, vfs.NewFaulty(mem, c.inject), opts)
			appendN(t, p, preload, 5)
			c.faults.Set(tc.inject(p.WrittenOffset()))
			acked := int64(preload)
			var err error
			if tc.append {
				for err == nil && acked < preload+1000 {
					_, err = p.Append(context.Background(), []partition.Record{{Value: value(acked), Timestamp: 1}})
					if err == nil {
						acked++
					}
				}
			} else {
				err = p.Roll()
			}
			require.ErrorIs(t, err, syscall.EIO)
			c.counting.Store(true)
			requireFailedClosed(t, p, syscall.EIO)
			_ = p.Close()
			c.requireNoSyncs(t)
			reopenAndCheck(t, mem, opts, acked)
			q := open(t, mem, opts) // and once more, cleanly
			defer q.Close()
			require.True(t, q.RecoveryReport().CleanShutdown)
			require.Equal(t, acked+20, readAll(t, q, 0))
		})
	}
}

// TestFaultCheckpointInDeleteRecords: DeleteRecordsBefore fails to checkpoint the new
// start offset (at creating, writing, fsyncing or renaming the temporary file, or at
// fsyncing the directory after the rename). It returns the error, and after a reopen
// the start offset is unchanged and every record is still there.
func TestFaultCheckpointInDeleteRecords(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpOpen, vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpSyncDir} {
		t.Run(op.String(), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			var c syncCounter
			opts := partition.Options{SegmentBytes: 8 << 10}
			p := open(t, vfs.NewFaulty(fsys, c.inject), opts)
			appendN(t, p, 2000, 5)
			sizes := diskLogSizes(t, fsys)
			if op == vfs.OpSyncDir {
				c.faults.Set(vfs.FailOp(op, syscall.EIO))
			} else {
				c.faults.Set(vfs.Match(partition.CheckpointFile, vfs.FailOp(op, syscall.EIO)))
			}
			err := p.DeleteRecordsBefore(1000)
			require.ErrorIs(t, err, syscall.EIO)
			require.Equal(t, int64(0), p.StartOffset())
			_ = p.Close()
			require.Equal(t, sizes, diskLogSizes(t, fsys), "no segment may be deleted")

			// After a failed directory fsync the rename may or may not have happened
			// (it has, on the live file system): a crash undoes it.
			reopenOn := vfs.FS(fsys)
			if op == vfs.OpSyncDir {
				reopenOn = fsys.Crash(vfs.DropUnsynced, 1)
			}
			q := open(t, reopenOn, opts)
			defer q.Close()
			require.Equal(t, int64(0), q.StartOffset())
			require.Equal(t, int64(2000), readAll(t, q, 0))
			names, err := reopenOn.ReadDir(partitionDir)
			require.NoError(t, err)
			for _, name := range names {
				require.False(t, strings.HasSuffix(name, ".tmp"), "temporary file %s left", name)
			}
		})
	}
}

// TestFaultErrorsAreDistinct makes sure the tests above can tell the injected errors
// apart: a partition failed by ENOSPC does not report EIO.
func TestFaultErrorsAreDistinct(t *testing.T) {
	mem := vfs.NewMem()
	var c syncCounter
	p := open(t, vfs.NewFaulty(mem, c.inject), partition.Options{})
	defer p.Close()
	appendN(t, p, 3, 3)
	c.faults.Set(vfs.FailOp(vfs.OpWrite, syscall.ENOSPC))
	_, err := p.Append(context.Background(), []partition.Record{{Value: []byte("x"), Timestamp: 1}})
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.False(t, errors.Is(err, syscall.EIO))
	require.False(t, errors.Is(err, vfs.ErrInjected))
}
