package partition_test

import (
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
