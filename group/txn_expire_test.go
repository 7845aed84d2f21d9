package group

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/vfs"
)

// Offset retention keeps an offset whose partition has a pending transactional
// offset, and the group, until the transaction ends (Kafka's
// cleanupExpiredOffsets); a restart in between changes nothing.
func TestTxnPendingOffsetsKeepTheirGroupFromExpiring(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	ctx := testContext(t)
	orders, payments := tp("orders", 0), tp("payments", 0)
	commitOne(t, r.testCoordinator, "g", "", -1, orders, 1)
	commitOne(t, r.testCoordinator, "g", "", -1, payments, 2)
	txnCommitOne(t, r.testCoordinator, "g", 5, 0, orders, 10)
	txnCommitOne(t, r.testCoordinator, "pending-only", 6, 0, orders, 3)
	r.clock.Advance(30 * day)

	n, err := r.ExpireOffsets(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the offset of payments expires")
	require.EqualValues(t, 1, offsetOf(t, r.testCoordinator, "g", orders))
	require.Equal(t, []string{"g", "pending-only"}, r.store.Groups())
	r = r.restart(t)
	n, err = r.ExpireOffsets(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, []string{"g", "pending-only"}, r.store.Groups(), "groups with pending offsets are kept")

	endTxnOffsets(t, r.store, 5, 1, false)
	endTxnOffsets(t, r.store, 6, 1, false)
	n, err = r.ExpireOffsets(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Empty(t, r.store.Groups())
	groups, err := r.ListGroups()
	require.NoError(t, err)
	require.Empty(t, groups)
}

// Deleting a group deletes its pending transactional offsets too (Kafka's
// deleteAllOffsets writes their tombstones): the transaction's COMMIT no longer
// brings them back, live or after a restart. Deleting a topic does the same for
// its partitions.
func TestTxnDeleteGroupDeletesPendingOffsets(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	ctx := testContext(t)
	orders, payments := tp("orders", 0), tp("payments", 0)
	commitOne(t, r.testCoordinator, "g", "", -1, orders, 1)
	txnCommitOne(t, r.testCoordinator, "g", 5, 0, payments, 10)
	txnCommitOne(t, r.testCoordinator, "h", 5, 0, payments, 20)
	txnCommitOne(t, r.testCoordinator, "h", 5, 0, orders, 30)
	require.NoError(t, r.DeleteGroup(ctx, "g"))
	n, err := r.DeleteTopicOffsets(ctx, "payments")
	require.NoError(t, err)
	require.Zero(t, n, "no committed offset of payments")
	require.Nil(t, r.store.PendingTxnPartitions("g"))
	require.Equal(t, []TopicPartition{orders}, r.store.PendingTxnPartitions("h"))
	endTxnOffsets(t, r.store, 5, 1, true)
	check := func(r *restartable) {
		require.Equal(t, []string{"h"}, r.store.Groups())
		got, err := r.FetchOffsets(ctx, "h", nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.EqualValues(t, 30, got[orders].Offset)
	}
	check(r)
	r = r.restart(t)
	check(r)
}
