package group

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// Compaction of the offsets log (as the store runs it, cleanup.policy=compact)
// keeps what replay needs of transactions: an aborted transaction's offset never
// replaces the plain commit it superseded by key, a committed one survives, an open
// one stays pending.
func TestTxnOffsetsSurviveCompaction(t *testing.T) {
	fsys := vfs.NewMem()
	opts := &partition.Options{FS: fsys, Compact: true}
	s, err := OpenPartitionOffsetStore(offsetsDir, opts)
	require.NoError(t, err)
	defer func() { s.Close() }()
	ctx := testContext(t)
	a, b, c := tp("orders", 0), tp("orders", 1), tp("orders", 2)
	commit := func(p TopicPartition, offset int64) {
		require.NoError(t, s.Write(ctx, "g", Write{Commits: map[TopicPartition]CommittedOffset{p: committed(offset, "", 1)}}))
	}
	txn := func(id int64, p TopicPartition, offset int64) {
		require.NoError(t, s.WriteTxn(ctx, "g", id, 0, map[TopicPartition]CommittedOffset{p: committed(offset, "", 1)}))
	}
	compactAndReopen := func() {
		t.Helper()
		require.NoError(t, s.Partition().Roll())
		_, err := s.Partition().ForceCompact(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		s, err = OpenPartitionOffsetStore(offsetsDir, opts)
		require.NoError(t, err)
	}
	commit(a, 1)
	txn(5, a, 10)
	endTxnOffsets(t, s, 5, 1, false)
	txn(6, b, 20)
	endTxnOffsets(t, s, 6, 1, true)
	commit(c, 5)
	txn(7, a, 30)
	compactAndReopen()
	requireOffsets(t, map[TopicPartition]CommittedOffset{a: committed(1, "", 1), b: committed(20, "", 1), c: committed(5, "", 1)}, s.Offsets("g"))
	require.Equal(t, []TopicPartition{a}, s.PendingTxnPartitions("g"))

	commit(c, 6)
	compactAndReopen()
	require.Equal(t, []TopicPartition{a}, s.PendingTxnPartitions("g"))
	endTxnOffsets(t, s, 7, 1, true)
	compactAndReopen()
	requireOffsets(t, map[TopicPartition]CommittedOffset{a: committed(30, "", 1), b: committed(20, "", 1), c: committed(6, "", 1)}, s.Offsets("g"))
	require.Nil(t, s.PendingTxnPartitions("g"))
}
