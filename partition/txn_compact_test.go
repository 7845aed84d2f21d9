package partition_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnReadCommittedAfterCompaction: the cleaned segments keep the aborted
// transactions indexed: a reader in read_committed still skips their records
// after compaction, after a clean reopen and after a crash.
func TestTxnReadCommittedAfterCompaction(t *testing.T) {
	fsys := vfs.NewCrashable()
	opts := partition.Options{SegmentBytes: 400, Compact: true}
	p := openDir(t, fsys, leaderDir, opts)
	_, err := appendTransactional(p, 1, 0, 0, 2) // 0-1, unique keys
	require.NoError(t, err)
	endTxn(t, p, 1, 0, partition.MarkerAbort) // 2
	for i := range 30 {                       // keys that replace each other, rolling segments
		_, err := p.Append(context.Background(), []partition.Record{{Key: []byte(fmt.Sprintf("other%d", i%3)), Value: []byte("v")}})
		require.NoError(t, err)
	}
	before := readAllAt(t, p, partition.ReadCommitted, 0)
	require.NotContains(t, before, int64(0))
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.True(t, res.Compacted)
	require.Positive(t, res.RecordsRemoved)
	uncommitted := readAllAt(t, p, partition.ReadUncommitted, 0)
	require.Contains(t, uncommitted, int64(0), "the test needs the aborted records to survive compaction")
	check := func(t *testing.T, p *partition.Partition) {
		got := readAllAt(t, p, partition.ReadCommitted, 0)
		require.NotContains(t, got, int64(0))
		require.NotContains(t, got, int64(1))
		require.Equal(t, []partition.AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 2, LastStableOffset: 3}}, p.AbortedTxns(0, p.EndOffset()))
	}
	check(t, p)
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	for _, f := range []vfs.FS{fsys, crashed} {
		q := openDir(t, f, leaderDir, opts)
		check(t, q)
		require.NoError(t, q.Close())
	}
}
