package txn

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Transaction version 1 (EndTxnVersion1, Kafka clients that end transactions
// with EndTxn v4 or below): the epoch is not bumped at the end, the markers
// carry the transaction's own epoch, and the producer's next transaction goes on
// with the same epoch; the refusals are Kafka's TV1 ones.
func TestEndTxnVersion1KeepsTheEpoch(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	require.Equal(t, ProducerIDAndEpoch{0, 0}, p)

	// Nothing to end: Kafka's TV1 answers INVALID_TXN_STATE (TV2 bumps and succeeds).
	_, err := h.c.EndTxnVersion1(h.ctx, "tx", p, false)
	require.ErrorIs(t, err, ErrInvalidTxnState)

	for i, commit := range []bool{true, false, true} {
		h.add("tx", p, tp("a", 0))
		r, err := h.c.EndTxnVersion1(h.ctx, "tx", p, commit)
		require.NoError(t, err, "transaction %d", i)
		require.Equal(t, EndTxnResult{p, true}, r, "transaction %d: the same epoch", i)
		m, ok := h.markers.last(tp("a", 0))
		require.True(t, ok)
		require.Equal(t, Marker{Partition: tp("a", 0), ProducerID: 0, ProducerEpoch: 0, Commit: commit, TransactionVersion: 1}, m)
		md := h.state("tx")
		require.Equal(t, int16(0), md.ProducerEpoch)
		// A retry of the end is answered as the first; the other decision is refused.
		r, err = h.c.EndTxnVersion1(h.ctx, "tx", p, commit)
		require.NoError(t, err)
		require.Equal(t, p, r.ProducerIDAndEpoch)
		_, err = h.c.EndTxnVersion1(h.ctx, "tx", p, !commit)
		require.ErrorIs(t, err, ErrInvalidTxnState)
	}

	// An older epoch is fenced, after a re-initialization bumped it.
	p2 := h.init("tx")
	require.Equal(t, ProducerIDAndEpoch{0, 1}, p2)
	h.add("tx", p2, tp("a", 0))
	_, err = h.c.EndTxnVersion1(h.ctx, "tx", p, true)
	require.ErrorIs(t, err, ErrProducerFenced)
	r, err := h.c.EndTxnVersion1(h.ctx, "tx", p2, true)
	require.NoError(t, err)
	require.Equal(t, p2, r.ProducerIDAndEpoch)

	// A decision whose markers failed: the retry waits (CONCURRENT_TRANSACTIONS),
	// and the transaction is finished by Tick with the epoch unchanged.
	h.add("tx", p2, tp("a", 0))
	h.markers.setFailAfter(0)
	r, err = h.c.EndTxnVersion1(h.ctx, "tx", p2, false)
	require.NoError(t, err)
	require.False(t, r.Complete)
	require.Equal(t, p2, r.ProducerIDAndEpoch)
	_, err = h.c.EndTxnVersion1(h.ctx, "tx", p2, false)
	require.ErrorIs(t, err, ErrConcurrentTransactions)
	h.markers.setFailAfter(-1)
	h.restart() // the decision, read back, keeps its version
	require.NoError(t, h.c.Tick(h.ctx))
	m, _ := h.markers.last(tp("a", 0))
	require.Equal(t, Marker{Partition: tp("a", 0), ProducerID: 0, ProducerEpoch: 1, Commit: false, TransactionVersion: 1}, m)
	md := h.state("tx")
	require.Equal(t, CompleteAbort, md.State)
	require.Equal(t, int16(1), md.ProducerEpoch)

	// Survives a restart: the next transaction goes on with the same epoch.
	h.restart()
	h.add("tx", p2, tp("b", 0))
	r, err = h.c.EndTxnVersion1(h.ctx, "tx", p2, true)
	require.NoError(t, err)
	require.Equal(t, EndTxnResult{p2, true}, r)
}
