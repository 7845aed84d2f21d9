package group

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// txnCommitOne commits offset of tp in group's transaction of producer id at epoch,
// without a member or generation.
func txnCommitOne(t *testing.T, c *testCoordinator, group string, id int64, epoch int16, tp TopicPartition, offset int64) {
	t.Helper()
	require.NoError(t, c.TxnCommitOffsets(testContext(t), TxnCommitRequest{Group: group, ProducerID: id, ProducerEpoch: epoch, Generation: -1,
		Offsets: map[TopicPartition]OffsetAndMetadata{tp: {Offset: offset}}}))
}

// endTxnOffsets writes the marker of producer id's transaction with the bumped
// epoch, as strata's transaction coordinator does (transaction version 2).
func endTxnOffsets(t *testing.T, s *PartitionOffsetStore, id int64, epoch int16, commit bool) {
	t.Helper()
	require.NoError(t, s.WriteTxnMarker(testContext(t), txnMarker(id, epoch, commit)))
}

func txnMarker(id int64, epoch int16, commit bool) partition.TxnMarker {
	m := partition.TxnMarker{ProducerID: id, ProducerEpoch: epoch, Type: partition.MarkerAbort, TransactionVersion: 2}
	if commit {
		m.Type = partition.MarkerCommit
	}
	return m
}

// offsetOf returns group's committed offset of tp, or -1.
func offsetOf(t *testing.T, c *testCoordinator, group string, tp TopicPartition) int64 {
	t.Helper()
	got, err := c.FetchOffsets(testContext(t), group, []TopicPartition{tp})
	require.NoError(t, err)
	if o, ok := got[tp]; ok {
		return o.Offset
	}
	return -1
}

// A transactional commit is pending, invisible to fetches, until its
// transaction's COMMIT marker makes it the committed offset; at every step a
// restart gives the same table.
func TestTxnCommitPendingUntilCommitMarker(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	orders := tp("orders", 0)
	commitOne(t, r.testCoordinator, "g", "", -1, orders, 3)
	txnCommitOne(t, r.testCoordinator, "g", 5, 0, orders, 10)
	requirePending := func(r *restartable) {
		require.EqualValues(t, 3, offsetOf(t, r.testCoordinator, "g", orders), "pending offsets are invisible")
		require.True(t, r.HasPendingTxnOffsets("g", orders))
		require.False(t, r.HasPendingTxnOffsets("g", tp("orders", 1)))
		_, err := r.FetchStableOffsets(testContext(t), "g", []TopicPartition{orders})
		require.ErrorIs(t, err, ErrUnstableOffsetCommit)
		got, err := r.FetchStableOffsets(testContext(t), "g", []TopicPartition{tp("orders", 1)})
		require.NoError(t, err, "another partition is stable")
		require.Empty(t, got)
	}
	requirePending(r)
	r = r.restart(t)
	requirePending(r)

	endTxnOffsets(t, r.store, 5, 1, true)
	requireCommitted := func(r *restartable) {
		require.EqualValues(t, 10, offsetOf(t, r.testCoordinator, "g", orders))
		require.False(t, r.HasPendingTxnOffsets("g", orders))
		got, err := r.FetchStableOffsets(testContext(t), "g", nil)
		require.NoError(t, err)
		require.EqualValues(t, 10, got[orders].Offset)
	}
	requireCommitted(r)
	r = r.restart(t)
	requireCommitted(r)

	// The marker again (the transaction coordinator retries after a failure):
	// accepted, and it changes nothing.
	endTxnOffsets(t, r.store, 5, 1, true)
	requireCommitted(r)
	r = r.restart(t)
	requireCommitted(r)
}

// An ABORT marker drops the transaction's pending offsets: the committed offset
// stays, before and after a restart, and after a repeated marker.
func TestTxnAbortDropsPendingOffsets(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	orders, payments := tp("orders", 0), tp("payments", 1)
	commitOne(t, r.testCoordinator, "g", "", -1, orders, 3)
	require.NoError(t, r.TxnCommitOffsets(testContext(t), TxnCommitRequest{Group: "g", ProducerID: 5, Generation: -1,
		Offsets: map[TopicPartition]OffsetAndMetadata{orders: {Offset: 10}, payments: {Offset: 4}}}))
	endTxnOffsets(t, r.store, 5, 1, false)
	requireAborted := func(r *restartable) {
		got, err := r.FetchOffsets(testContext(t), "g", nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.EqualValues(t, 3, got[orders].Offset)
		require.Nil(t, r.store.PendingTxnPartitions("g"))
	}
	requireAborted(r)
	r = r.restart(t)
	requireAborted(r)
	endTxnOffsets(t, r.store, 5, 1, false)
	requireAborted(r)
	r = r.restart(t)
	requireAborted(r)
}

// A pending transactional offset replaces the committed one only if it is later in
// the offsets log (Kafka's rule): a plain commit written after it wins, one
// written before it loses; live and after a restart alike.
func TestTxnCommitLaterInTheLogWins(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	before, after := tp("orders", 0), tp("orders", 1)
	commitOne(t, r.testCoordinator, "g", "", -1, before, 1)
	require.NoError(t, r.TxnCommitOffsets(testContext(t), TxnCommitRequest{Group: "g", ProducerID: 5, Generation: -1,
		Offsets: map[TopicPartition]OffsetAndMetadata{before: {Offset: 10}, after: {Offset: 10}}}))
	commitOne(t, r.testCoordinator, "g", "", -1, after, 20)
	endTxnOffsets(t, r.store, 5, 1, true)
	check := func(r *restartable) {
		require.EqualValues(t, 10, offsetOf(t, r.testCoordinator, "g", before), "the transaction's offset is later than the plain commit")
		require.EqualValues(t, 20, offsetOf(t, r.testCoordinator, "g", after), "the plain commit is later than the transaction's offset")
	}
	check(r)
	r = r.restart(t)
	check(r)
}

// Two commits of one transaction (and two producers' transactions on one
// group) are all pending; each producer's marker ends its own only.
func TestTxnCommitsOfTwoProducers(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	orders, payments := tp("orders", 0), tp("payments", 0)
	txnCommitOne(t, r.testCoordinator, "g", 5, 0, orders, 10)
	txnCommitOne(t, r.testCoordinator, "g", 5, 0, orders, 11) // the same sequences: not a duplicate
	txnCommitOne(t, r.testCoordinator, "g", 6, 0, payments, 7)
	require.Equal(t, []TopicPartition{orders, payments}, r.store.PendingTxnPartitions("g"))
	endTxnOffsets(t, r.store, 5, 1, true)
	check := func(r *restartable) {
		require.EqualValues(t, 11, offsetOf(t, r.testCoordinator, "g", orders))
		require.EqualValues(t, -1, offsetOf(t, r.testCoordinator, "g", payments))
		require.Equal(t, []TopicPartition{payments}, r.store.PendingTxnPartitions("g"))
	}
	check(r)
	r = r.restart(t)
	check(r)
	// After the restart, the open transaction of producer 6 ends as before.
	endTxnOffsets(t, r.store, 6, 1, true)
	require.EqualValues(t, 7, offsetOf(t, r.testCoordinator, "g", payments))
	require.Nil(t, r.store.PendingTxnPartitions("g"))
}

// A producer fenced by the epoch its transaction ended with cannot commit
// offsets: the offsets partition refuses the stale epoch, nothing is stored.
func TestTxnCommitStaleProducerEpochRefused(t *testing.T) {
	r := openRestartable(t, vfs.NewMem(), newFakeClock())
	orders := tp("orders", 0)
	txnCommitOne(t, r.testCoordinator, "g", 5, 0, orders, 10)
	endTxnOffsets(t, r.store, 5, 1, true)
	err := r.TxnCommitOffsets(testContext(t), TxnCommitRequest{Group: "g", ProducerID: 5, ProducerEpoch: 0, Generation: -1,
		Offsets: map[TopicPartition]OffsetAndMetadata{orders: {Offset: 99}}})
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
	require.Nil(t, r.store.PendingTxnPartitions("g"))
	require.EqualValues(t, 10, offsetOf(t, r.testCoordinator, "g", orders))

	require.ErrorIs(t, r.TxnCommitOffsets(testContext(t), TxnCommitRequest{Group: "g", ProducerID: -1, Generation: -1,
		Offsets: map[TopicPartition]OffsetAndMetadata{orders: {Offset: 99}}}), ErrInvalidArgument)
}

// KIP-447: a transactional commit naming a member and generation is checked as a
// plain commit is, so that a zombie fenced out by a rebalance cannot commit; one
// naming neither is accepted whatever the group's state.
func TestTxnCommitFencedByGeneration(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ctx := testContext(t)
	ids, generation := stableGroup(t, c, "g", 2)
	orders := tp("orders", 0)
	offsets := map[TopicPartition]OffsetAndMetadata{orders: {Offset: 10}}
	req := func(member string, generation int32) TxnCommitRequest {
		return TxnCommitRequest{Group: "g", ProducerID: 5, MemberID: member, Generation: generation, Offsets: offsets}
	}
	require.ErrorIs(t, c.TxnCommitOffsets(ctx, req(ids[0], generation-1)), ErrIllegalGeneration)
	require.ErrorIs(t, c.TxnCommitOffsets(ctx, req("zombie", generation)), ErrUnknownMemberID)
	require.ErrorIs(t, c.TxnCommitOffsets(ctx, req(ids[0], -1)), ErrIllegalGeneration, "a member without its generation")
	fenced := req(ids[0], generation)
	fenced.InstanceID = "someone-else"
	require.ErrorIs(t, c.TxnCommitOffsets(ctx, fenced), ErrFencedInstanceID)
	require.ErrorIs(t, c.TxnCommitOffsets(ctx, TxnCommitRequest{Group: "unknown", ProducerID: 5, MemberID: "m", Generation: 1, Offsets: offsets}), ErrUnknownMemberID)
	require.Nil(t, c.store.PendingTxnPartitions("g"), "nothing stored")

	require.NoError(t, c.TxnCommitOffsets(ctx, req(ids[1], generation)))
	require.NoError(t, c.TxnCommitOffsets(ctx, req("", -1)), "no group metadata (a client before KIP-447)")
	require.Equal(t, []TopicPartition{orders}, c.store.PendingTxnPartitions("g"))
	got, err := c.FetchOffsets(ctx, "g", nil)
	require.NoError(t, err)
	require.Empty(t, got)

	// The memory store ends transactions too.
	require.NoError(t, c.store.(*MemoryOffsetStore).WriteTxnMarker(ctx, txnMarker(5, 1, true)))
	require.EqualValues(t, 10, offsetOf(t, c, "g", orders))
}

// A replicated store routes transactional batches and markers through the
// functions it sets (the partition's leader): they receive the producer's
// identity and the marker as the partition would.
func TestTxnSettableAppends(t *testing.T) {
	s := openStore(t, vfs.NewMem())
	p := s.Partition()
	var producers []partition.Producer
	var markers []partition.TxnMarker
	s.SetProducerAppend(func(ctx context.Context, records []partition.Record, producer *partition.Producer) (int64, error) {
		producers = append(producers, *producer)
		return p.AppendWith(ctx, records, &partition.AppendOptions{Producer: producer})
	})
	s.SetMarkerAppend(func(ctx context.Context, m partition.TxnMarker) (int64, error) {
		markers = append(markers, m)
		return p.AppendTxnMarker(ctx, m)
	})
	c := newTestCoordinator(t, &Options{Offsets: s})
	txnCommitOne(t, c, "g", 5, 2, tp("orders", 0), 10)
	endTxnOffsets(t, s, 5, 3, true)
	require.Equal(t, []partition.Producer{{ID: 5, Epoch: 2, BaseSequence: 0, Transactional: true, Coordinator: true}}, producers)
	require.Equal(t, []partition.TxnMarker{txnMarker(5, 3, true)}, markers)
	require.EqualValues(t, 10, offsetOf(t, c, "g", tp("orders", 0)))
}
