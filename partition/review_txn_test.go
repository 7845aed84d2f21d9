package partition_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnUpgradeMarkerAboveHighWatermarkUndecided: after the upgrade rule's Open
// (a clean shutdown without any snapshot: the producer state comes from the last
// two segments only), a marker below those segments but above the owner's high
// watermark still decides nothing: the last stable offset stays at its
// transaction's first offset, as after any other reopen.
func TestTxnUpgradeMarkerAboveHighWatermarkUndecided(t *testing.T) {
	fsys := vfs.NewMem()
	opts := upgradeOptions()
	opts.Replicated = true
	p := openDir(t, fsys, upgradeDir, opts)
	appendBatches(t, p, 1)
	first, err := appendTransactional(p, 3, 0, 0, 2)
	require.NoError(t, err)
	marker := endTxn(t, p, 3, 0, partition.MarkerCommit)
	for range 40 {
		appendBatches(t, p, 2)
	}
	bases := segmentBases(t, fsys)
	require.Greater(t, bases[len(bases)-2], marker, "the marker must lie below the last two segments")
	require.NoError(t, p.Close())
	removeSnapshots(t, fsys, upgradeDir)

	p = openDir(t, fsys, upgradeDir, opts)
	defer p.Close()
	require.True(t, p.RecoveryReport().CleanShutdown)
	_, err = p.SetHighWatermark(marker)
	require.NoError(t, err)
	require.Equal(t, first, p.LastStableOffset(), "the marker is above the high watermark")
	_, err = p.SetHighWatermark(marker + 1)
	require.NoError(t, err)
	require.Equal(t, marker+1, p.LastStableOffset())
}

// TestTxnReadCommittedUnreadableSnapshotHidesOpenTransaction: while the producer
// state that Open left unread (the snapshot at the log end) cannot be read, the
// open transactions are unknown: the last stable offset stays at the log start
// offset, and a reader in read_committed returns no record of a transaction open
// in the log.
func TestTxnReadCommittedUnreadableSnapshotHidesOpenTransaction(t *testing.T) {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	p := openDir(t, fsys, leaderDir, partition.Options{})
	appendBatches(t, p, 1)
	first, err := appendTransactional(p, 3, 0, 0, 2)
	require.NoError(t, err)
	appendBatches(t, p, 1)
	require.NoError(t, p.Close())

	p = openDir(t, fsys, leaderDir, partition.Options{})
	defer p.Close()
	require.True(t, p.RecoveryReport().CleanShutdown)
	faults.Set(vfs.Match(partition.SnapshotSuffix, vfs.FailOp(vfs.OpOpen, syscall.EIO)))
	require.LessOrEqual(t, p.LastStableOffset(), first, "the open transactions are unknown")
	r := p.NewReader(0, 1<<20)
	require.NoError(t, r.SetIsolationLevel(partition.ReadCommitted))
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			break
		}
		require.Less(t, rec.Offset, first, "a record of the open transaction")
	}

	faults.Set(nil)
	require.Equal(t, first, p.LastStableOffset())
}
