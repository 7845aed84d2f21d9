package partition_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// txnIndexFiles lists the .txnindex files of dir.
func txnIndexFiles(t testing.TB, fsys vfs.FS, dir string) []string {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, name := range names {
		if strings.HasSuffix(name, ".txnindex") {
			out = append(out, name)
		}
	}
	return out
}

// TestTxnIndexFollowsSegments: a truncation below an ABORT marker removes its
// entry, and retention deletes a segment's .txnindex with the segment.
func TestTxnIndexFollowsSegments(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, leaderDir, partition.Options{SegmentBytes: 300})
	defer p.Close()
	_, err := appendTransactional(p, 1, 0, 0, 1)
	require.NoError(t, err)
	endTxn(t, p, 1, 0, partition.MarkerAbort) // 1
	_, err = appendTransactional(p, 2, 0, 0, 1)
	require.NoError(t, err)
	second := endTxn(t, p, 2, 0, partition.MarkerAbort) // 3
	require.Len(t, p.AbortedTxns(0, p.EndOffset()), 2)
	require.NotEmpty(t, txnIndexFiles(t, fsys, leaderDir))

	_, err = p.TruncateTo(second)
	require.NoError(t, err)
	require.Len(t, p.AbortedTxns(0, p.EndOffset()), 1)
	require.Equal(t, second-1, p.LastStableOffset(), "producer 2's transaction, from offset 2, is open again")
	endTxn(t, p, 2, 0, partition.MarkerCommit)

	appendBatches(t, p, 3, 3, 3, 3) // roll past the first segment
	require.NoError(t, p.DeleteRecordsBefore(p.EndOffset()-1))
	require.Empty(t, txnIndexFiles(t, fsys, leaderDir))
	require.Empty(t, p.AbortedTxns(p.StartOffset(), p.EndOffset()))
}

// TestTxnFollowerIndexesAborts: a follower copying a leader's transactions and
// markers (AppendReplica) builds the same aborted-transaction index and last
// stable offset, so that a follower that becomes leader serves read_committed.
func TestTxnFollowerIndexesAborts(t *testing.T) {
	fsys := vfs.NewMem()
	leader := openDir(t, fsys, leaderDir, partition.Options{})
	defer leader.Close()
	follower := openDir(t, fsys, followerDir, partition.Options{})
	defer follower.Close()
	_, err := appendTransactional(leader, 1, 0, 0, 2)
	require.NoError(t, err)
	_, err = appendTransactional(leader, 2, 0, 0, 1)
	require.NoError(t, err)
	endTxn(t, leader, 1, 0, partition.MarkerAbort)
	appendBatches(t, leader, 1)
	replicate(t, leader, follower, 1<<20)
	require.Equal(t, leader.AbortedTxns(0, leader.EndOffset()), follower.AbortedTxns(0, follower.EndOffset()))
	require.Len(t, follower.AbortedTxns(0, follower.EndOffset()), 1)
	require.EqualValues(t, 2, follower.LastStableOffset(), "producer 2's transaction is open")
	endTxn(t, leader, 2, 0, partition.MarkerCommit)
	replicate(t, leader, follower, 1<<20)
	require.Equal(t, readAllAt(t, leader, partition.ReadCommitted, 0), readAllAt(t, follower, partition.ReadCommitted, 0))
	require.Equal(t, []int64{2, 4}, readAllAt(t, follower, partition.ReadCommitted, 0))
}
