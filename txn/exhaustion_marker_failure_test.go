package txn

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTransactionEpochExhaustionWithAFailedMarkerHandsOutTheNextProducerID: an
// end that rotates the producer id (its epochs exhausted) and whose marker fails
// is still decided, and answers the identity the producer's next transaction
// uses: once Tick has written the markers and the completion, that identity adds
// partitions (before, it is told to retry with ErrConcurrentTransactions).
func TestTransactionEpochExhaustionWithAFailedMarkerHandsOutTheNextProducerID(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	h.c.mu.Lock()
	h.c.mu.entries["tx"].md.ProducerEpoch = 1<<15 - 2
	h.c.mu.Unlock()
	p.ProducerEpoch = 1<<15 - 2
	h.add("tx", p, tp("a", 0))
	h.markers.setFailAfter(0)
	r := h.end("tx", p, true)
	require.False(t, r.Complete)
	err := h.c.AddPartitionsToTxn(h.ctx, "tx", r.ProducerIDAndEpoch, []TopicPartition{tp("b", 0)})
	require.ErrorIs(t, err, ErrConcurrentTransactions, "the markers are not all written yet")

	h.markers.setFailAfter(-1)
	require.NoError(t, h.c.Tick(h.ctx))
	require.Equal(t, CompleteCommit, h.state("tx").State)
	require.Equal(t, ProducerIDAndEpoch{h.state("tx").ProducerID, h.state("tx").ProducerEpoch}, r.ProducerIDAndEpoch,
		"EndTxn handed out the identity the id moved to")
	h.add("tx", r.ProducerIDAndEpoch, tp("b", 0))
}
