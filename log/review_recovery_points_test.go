package log_test

// Review of recovery-points.checkpoint: states strata itself leaves that must open
// without a false alarm.

import (
	"syscall"
	"testing"

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
