package partition_test

// Review findings (issue 11 change): legitimate crash states that the new sequence
// checks refuse.

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestReviewCrashInTruncateToBeforeCheckpoint: TruncateTo truncates (and fsyncs) the
// segment and fsyncs the directory, and only then lowers the recovery point in the
// checkpoint. A crash between the two leaves a log that ends below the checkpointed
// recovery point: exactly what the caller asked for, yet checkSequence's faultTail
// calls it "records are missing" and Open fails, taking a healthy partition offline.
func TestReviewCrashInTruncateToBeforeCheckpoint(t *testing.T) {
	fsys := vfs.NewCrashable()
	var faults vfs.Switch
	opts := partition.Options{SegmentBytes: 4 << 10}
	p := open(t, vfs.NewFaulty(fsys, faults.Inject), opts)
	appendN(t, p, 1000, 5) // several rolls: the recovery point is the active segment's base
	require.NoError(t, p.Sync(t.Context()))
	// The crash point: everything of TruncateTo is done and durable but the last
	// checkpoint write.
	faults.Set(vfs.Match(partition.CheckpointFile, vfs.FailOp(vfs.OpOpen, syscall.EIO)))
	_, err := p.TruncateTo(100)
	require.ErrorIs(t, err, syscall.EIO)
	_ = p.Close()

	after := fsys.Crash(vfs.DropUnsynced, 1)
	opts.FS = after
	q, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err, "a crash in TruncateTo must not take the partition offline")
	defer q.Close()
	require.Equal(t, int64(100), q.EndOffset())
	require.Equal(t, int64(100), readAll(t, q, 0))
}

// TestReviewCrashInTruncateToBeforeSyncDir: TruncateTo removes the later segments,
// then truncates (and fsyncs) the segment holding the offset, and only then fsyncs
// the directory. A crash before that directory fsync brings the removed names back
// next to the truncated, durable segment: a gap between segments, which checkSequence
// calls "offsets ... are missing", and Open fails. Before this change the same state
// opened (with a silent gap, also wrong); either way TruncateTo is not crash-safe:
// the order should make every crash point a state Open accepts (e.g. lower the
// recovery point in the checkpoint first, fsync the directory after removing the
// later segments and before cutting the last one).
func TestReviewCrashInTruncateToBeforeSyncDir(t *testing.T) {
	fsys := vfs.NewCrashable()
	var faults vfs.Switch
	opts := partition.Options{SegmentBytes: 4 << 10}
	p := open(t, vfs.NewFaulty(fsys, faults.Inject), opts)
	appendN(t, p, 1000, 5)
	require.NoError(t, p.Sync(t.Context()))
	faults.Set(vfs.FailOp(vfs.OpSyncDir, syscall.EIO))
	_, err := p.TruncateTo(100)
	require.ErrorIs(t, err, syscall.EIO)
	_ = p.Close()

	after := fsys.Crash(vfs.DropUnsynced, 1)
	opts.FS = after
	q, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err, "a crash in TruncateTo must leave a partition that opens")
	defer q.Close()
	readAll(t, q, 0)
}
