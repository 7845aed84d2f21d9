package log_test

// Review of recovery-points.checkpoint: states strata itself leaves that must open
// without a false alarm.

import (
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestReviewRecoveryPointsFailedDirSyncThenDeleteAndCreate: a write of the file
// whose rename was done but whose fsync of the store's directory failed leaves the
// new file in place (a later fsync of the directory makes it durable), while the
// store still believes the old one is there. DeleteTopic and CreateTopic of the
// name then see no line of the name "on disk", skip their rewrite, and the new,
// empty partition inherits the old one's point: after a power loss it is offline,
// a false alarm.
func TestReviewRecoveryPointsFailedDirSyncThenDeleteAndCreate(t *testing.T) {
	ctx := testContext(t)
	base := vfs.NewCrashable()
	var faults vfs.Switch
	s, err := log.Open("/data", manualRecoveryPoints(vfs.NewFaulty(base, faults.Inject)))
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produceInCalls(t, s, "orders", 0, 10, 2)
	faults.Set(vfs.FailOp(vfs.OpSyncDir, syscall.EIO))
	require.ErrorIs(t, s.Sync(ctx), syscall.EIO, "the file is renamed into place, its directory not fsynced")
	faults.Set(nil)
	require.NoError(t, s.DeleteTopic(ctx, "orders")) // fsyncs the store's directory
	createTopic(t, s, "orders", log.TopicConfig{})
	require.NoError(t, s.Sync(ctx)) // nothing changed, as far as the store knows
	requireIntactAfterPowerLoss(t, base, s, "orders", 0)
}

// TestReviewRecoveryPointsUnreadableAtOpenThenDeleteAndCreate: a file Open could
// not read (an I/O error, not damage) and could not rewrite still holds its lines,
// which the next Open reads: DeleteTopic and CreateTopic of a name must rewrite it
// although the store does not know what it holds.
func TestReviewRecoveryPointsUnreadableAtOpenThenDeleteAndCreate(t *testing.T) {
	ctx := testContext(t)
	base := vfs.NewCrashable()
	var faults vfs.Switch
	fsys := vfs.NewFaulty(base, faults.Inject)
	s, err := log.Open("/data", manualRecoveryPoints(fsys))
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produceInCalls(t, s, "orders", 0, 10, 2)
	require.NoError(t, s.Close())

	faults.Set(vfs.Match("recovery-points", func(op vfs.Op, _ string) *vfs.Fault {
		if op == vfs.OpRead || op == vfs.OpRename {
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	}))
	s, err = log.Open("/data", manualRecoveryPoints(fsys))
	require.NoError(t, err, "the file is a hint")
	faults.Set(nil)
	require.NoError(t, s.DeleteTopic(ctx, "orders"))
	createTopic(t, s, "orders", log.TopicConfig{})
	requireIntactAfterPowerLoss(t, base, s, "orders", 0)
}

// TestReviewRecoveryPointsDiskFull: while the file cannot be written, the store's
// goroutine logs it once (not every second), and once again when it works again;
// producing is unaffected. Close does not fail for it when every partition closed
// cleanly (no Open will use the file): it logs it.
func TestReviewRecoveryPointsDiskFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var faults vfs.Switch
		var logs logBuffer
		s, err := log.Open("/data", &log.Options{FS: vfs.NewFaulty(vfs.NewMem(), faults.Inject), Logger: logs.logger(),
			RetentionCheckInterval: -1, RecoveryPointInterval: time.Second})
		require.NoError(t, err)
		createTopic(t, s, "orders", log.TopicConfig{})
		faults.Set(vfs.Match("recovery-points", vfs.FailOp(vfs.OpWrite, syscall.ENOSPC)))
		for i := range 5 {
			produce(t, s, "orders", 0, 1+i)
			time.Sleep(time.Second)
			synctest.Wait()
		}
		require.Equal(t, 1, strings.Count(logs.String(), "recording the recovery points failed"), logs.String())
		faults.Set(nil)
		time.Sleep(time.Second)
		synctest.Wait()
		require.Contains(t, logs.String(), "recording the recovery points works again")

		faults.Set(vfs.Match("recovery-points", vfs.FailOp(vfs.OpWrite, syscall.ENOSPC)))
		produce(t, s, "orders", 0, 1)
		require.NoError(t, s.Close(), "Close does not fail for the hint alone")
		require.Contains(t, logs.String(), "recording the recovery points at close failed")
	})
}

// TestReviewRecoveryPointsCleanReopenWritesNothing: after a clean Close, an Open
// (of every partition, clean) and a Close write no recovery-points file: Close left
// it up to date.
func TestReviewRecoveryPointsCleanReopenWritesNothing(t *testing.T) {
	var writes atomic.Int64
	fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, name string) *vfs.Fault {
		if op == vfs.OpOpen && strings.Contains(name, "recovery-points.checkpoint.tmp") {
			writes.Add(1)
		}
		return nil
	})
	s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 3, Sync: log.SyncPolicy{Mode: log.SyncNone}})
	for p := range int32(3) {
		produce(t, s, "orders", p, 2+int(p))
	}
	require.NoError(t, s.Close())
	before := writes.Load()
	s, err = log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Equal(t, before, writes.Load())
	recorded, err := log.RecordedRecoveryPoints(fsys, "/data")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"orders-0": 2, "orders-1": 3, "orders-2": 4}, recorded)
}
