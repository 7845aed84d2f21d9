package txn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTransactionCommitWritesMarkersEverywhere walks one transaction through
// Empty -> Ongoing -> PrepareCommit -> CompleteCommit: the markers go to every
// data partition and to the group's __consumer_offsets partition, with the bumped
// epoch, which is the one the producer uses next.
func TestTransactionCommitWritesMarkersEverywhere(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	require.Equal(t, ProducerIDAndEpoch{0, 0}, p)
	require.Equal(t, Empty, h.state("tx").State)
	h.add("tx", p, tp("a", 0), tp("b", 1))
	require.NoError(t, h.c.AddOffsetsToTxn(h.ctx, "tx", p, "billing"))
	md := h.state("tx")
	require.Equal(t, Ongoing, md.State)
	require.Equal(t, []TopicPartition{tp("__consumer_offsets", 0), tp("a", 0), tp("b", 1)}, md.Partitions)
	require.Equal(t, h.clock.Now(), md.StartTime)

	r := h.end("tx", p, true)
	require.Equal(t, EndTxnResult{ProducerIDAndEpoch{0, 1}, true}, r)
	for _, part := range md.Partitions {
		m, ok := h.markers.last(part)
		require.True(t, ok, part)
		require.Equal(t, Marker{Partition: part, ProducerID: 0, ProducerEpoch: 1, Commit: true, TransactionVersion: 2}, m)
	}
	md = h.state("tx")
	require.Equal(t, CompleteCommit, md.State)
	require.Empty(t, md.Partitions)
	require.Equal(t, int16(1), md.ProducerEpoch)

	// The log holds Ongoing, PrepareCommit, CompleteCommit after Empty.
	var states []State
	for _, r := range h.log.Records() {
		m, err := DecodeValue("tx", r.Value)
		require.NoError(t, err)
		states = append(states, m.State)
	}
	require.Equal(t, []State{Empty, Ongoing, Ongoing, PrepareCommit, CompleteCommit}, states)

	// The next transaction, with the bumped epoch, then an abort.
	p = r.ProducerIDAndEpoch
	h.add("tx", p, tp("a", 0))
	r = h.end("tx", p, false)
	require.Equal(t, ProducerIDAndEpoch{0, 2}, r.ProducerIDAndEpoch)
	m, _ := h.markers.last(tp("a", 0))
	require.False(t, m.Commit)
	require.Equal(t, CompleteAbort, h.state("tx").State)
}

// TestTransactionStateMachineErrors checks every refusal of Kafka's state machine.
func TestTransactionStateMachineErrors(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	// EndTxn with no transaction (Empty).
	_, err := h.c.EndTxn(h.ctx, "tx", p, true)
	require.ErrorIs(t, err, ErrInvalidTxnState)
	// Unknown id, other producer id, newer epoch.
	_, err = h.c.EndTxn(h.ctx, "nope", p, true)
	require.ErrorIs(t, err, ErrInvalidProducerIDMapping)
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "nope", p, []TopicPartition{tp("a", 0)}), ErrInvalidProducerIDMapping)
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", ProducerIDAndEpoch{p.ProducerID + 1, p.ProducerEpoch}, []TopicPartition{tp("a", 0)}), ErrInvalidProducerIDMapping)
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", ProducerIDAndEpoch{p.ProducerID, p.ProducerEpoch + 1}, []TopicPartition{tp("a", 0)}), ErrInvalidProducerEpoch)
	// Bad input changes nothing.
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", p, []TopicPartition{tp("", 0)}), ErrInvalidArgument)
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", p, []TopicPartition{tp("a", -1)}), ErrInvalidArgument)
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", p, nil), ErrInvalidArgument)
	require.ErrorIs(t, h.c.AddOffsetsToTxn(h.ctx, "tx", p, ""), ErrInvalidArgument)
	_, err = h.c.InitProducerID(h.ctx, "tx", time.Hour, nil)
	require.ErrorIs(t, err, ErrInvalidTransactionTimeout)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = h.c.InitProducerID(h.ctx, "tx", -time.Second, nil)
	require.ErrorIs(t, err, ErrInvalidTransactionTimeout)
	_, err = h.c.InitProducerID(h.ctx, string(make([]byte, MaxTransactionalIDBytes+1)), 0, nil)
	require.ErrorIs(t, err, ErrInvalidTransactionalID)
	require.Equal(t, Empty, h.state("tx").State)
	require.Equal(t, p.ProducerEpoch, h.state("tx").ProducerEpoch)
	_, err = h.c.Describe("nope")
	require.ErrorIs(t, err, ErrTransactionalIDNotFound)

	// While decided (markers failing): PrepareCommit refuses AddPartitions,
	// InitProducerID and a second commit with ErrConcurrentTransactions, an abort
	// with ErrInvalidTxnState.
	h.add("tx", p, tp("a", 0))
	h.markers.setFailAfter(0)
	r := h.end("tx", p, true)
	require.False(t, r.Complete)
	require.Equal(t, PrepareCommit, h.state("tx").State)
	next := r.ProducerIDAndEpoch
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", next, []TopicPartition{tp("b", 0)}), ErrConcurrentTransactions)
	_, err = h.c.InitProducerID(h.ctx, "tx", 0, nil)
	require.ErrorIs(t, err, ErrConcurrentTransactions)
	_, err = h.c.EndTxn(h.ctx, "tx", p, true) // the retry
	require.ErrorIs(t, err, ErrConcurrentTransactions)
	_, err = h.c.EndTxn(h.ctx, "tx", p, false)
	require.ErrorIs(t, err, ErrInvalidTxnState)
	_, err = h.c.EndTxn(h.ctx, "tx", next, true) // the bumped epoch is not the transaction's
	require.ErrorIs(t, err, ErrProducerFenced)

	// Tick writes the markers; then the retried commit is answered as it was,
	// and an abort of it is refused.
	h.markers.setFailAfter(-1)
	require.NoError(t, h.c.Tick(h.ctx))
	require.Equal(t, CompleteCommit, h.state("tx").State)
	again, err := h.c.EndTxn(h.ctx, "tx", p, true)
	require.NoError(t, err)
	require.Equal(t, EndTxnResult{next, true}, again)
	_, err = h.c.EndTxn(h.ctx, "tx", p, false)
	require.ErrorIs(t, err, ErrInvalidTxnState)

	// The same for PrepareAbort.
	h.add("tx", next, tp("a", 0))
	h.markers.setFailAfter(0)
	r = h.end("tx", next, false)
	require.Equal(t, PrepareAbort, h.state("tx").State)
	_, err = h.c.EndTxn(h.ctx, "tx", next, false)
	require.ErrorIs(t, err, ErrConcurrentTransactions)
	_, err = h.c.EndTxn(h.ctx, "tx", next, true)
	require.ErrorIs(t, err, ErrInvalidTxnState)
	h.markers.setFailAfter(-1)
	require.NoError(t, h.c.Tick(h.ctx))
	require.Equal(t, CompleteAbort, h.state("tx").State)
	_, err = h.c.EndTxn(h.ctx, "tx", next, true)
	require.ErrorIs(t, err, ErrInvalidTxnState)
	_, err = h.c.EndTxn(h.ctx, "tx", next, false)
	require.NoError(t, err)

	require.NoError(t, h.c.Close())
	_, err = h.c.InitProducerID(h.ctx, "tx", 0, nil)
	require.ErrorIs(t, err, ErrCoordinatorClosed)
	require.ErrorIs(t, err, ErrClosed)
}

// TestTransactionStateMachineIsKafkas spot-checks the transition table against
// Kafka's TransactionState.validPreviousStates; the model test holds every stored
// transition to it.
func TestTransactionStateMachineIsKafkas(t *testing.T) {
	for _, c := range []struct {
		from, to State
		ok       bool
	}{
		{Empty, Ongoing, true}, {CompleteCommit, Ongoing, true}, {Ongoing, PrepareCommit, true},
		{PrepareEpochFence, PrepareAbort, true}, {PrepareCommit, CompleteCommit, true}, {CompleteAbort, Empty, true},
		{Empty, PrepareCommit, false}, {CompleteCommit, PrepareCommit, false}, {PrepareCommit, CompleteAbort, false},
		{PrepareEpochFence, PrepareCommit, false}, {Ongoing, Dead, false}, {Ongoing, Empty, false},
	} {
		require.Equal(t, c.ok, canTransition(c.from, c.to), "%s -> %s", c.from, c.to)
	}
	require.Equal(t, "PrepareEpochFence", PrepareEpochFence.String())
	require.Equal(t, "State(9)", State(9).String())
}

// TestIdempotentProducerTransactionlessInit: without transactional id every call is a new
// producer id at epoch 0, and nothing is stored.
func TestIdempotentProducerTransactionlessInit(t *testing.T) {
	h := newHarness(t)
	a, err := h.c.InitProducerID(h.ctx, "", 0, nil)
	require.NoError(t, err)
	b, err := h.c.InitProducerID(h.ctx, "", 0, nil)
	require.NoError(t, err)
	require.Equal(t, int16(0), a.ProducerEpoch)
	require.NotEqual(t, a.ProducerID, b.ProducerID)
	require.Empty(t, h.log.Records())
}
