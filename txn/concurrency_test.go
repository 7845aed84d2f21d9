package txn

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// blockingMarkers blocks every WriteMarker until release is closed, telling
// started when the first one begins.
type blockingMarkers struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingMarkers) WriteMarker(ctx context.Context, m Marker) error {
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-b.release
	return nil
}

// TestTransactionConcurrentRequestsRefused: while an EndTxn writes its markers,
// every other request on the id is refused with ErrConcurrentTransactions (or
// ErrProducerFenced for the old epoch), Tick leaves it alone, and requests on
// other ids go through.
func TestTransactionConcurrentRequestsRefused(t *testing.T) {
	ctx := context.Background()
	markers := &blockingMarkers{started: make(chan struct{}, 1), release: make(chan struct{})}
	c, err := Open(ctx, &Options{Markers: markers})
	require.NoError(t, err)
	p, err := c.InitProducerID(ctx, "tx", 0, nil)
	require.NoError(t, err)
	require.NoError(t, c.AddPartitionsToTxn(ctx, "tx", p, []TopicPartition{tp("a", 0)}))
	type ended struct {
		r   EndTxnResult
		err error
	}
	done := make(chan ended)
	go func() {
		r, err := c.EndTxn(ctx, "tx", p, true)
		done <- ended{r, err}
	}()
	<-markers.started
	_, err = c.InitProducerID(ctx, "tx", 0, nil)
	require.ErrorIs(t, err, ErrConcurrentTransactions)
	_, err = c.EndTxn(ctx, "tx", p, true)
	require.ErrorIs(t, err, ErrConcurrentTransactions)
	require.ErrorIs(t, c.AddPartitionsToTxn(ctx, "tx", ProducerIDAndEpoch{p.ProducerID, p.ProducerEpoch + 1}, []TopicPartition{tp("b", 0)}), ErrConcurrentTransactions)
	require.ErrorIs(t, c.AddPartitionsToTxn(ctx, "tx", p, []TopicPartition{tp("b", 0)}), ErrProducerFenced)
	require.NoError(t, c.Tick(ctx))
	other, err := c.InitProducerID(ctx, "other", 0, nil)
	require.NoError(t, err)
	require.NotEqual(t, p.ProducerID, other.ProducerID)
	close(markers.release)
	e := <-done
	require.NoError(t, e.err)
	require.True(t, e.r.Complete)
	md, err := c.Describe("tx")
	require.NoError(t, err)
	require.Equal(t, CompleteCommit, md.State)
}
