package txn

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// failingBlockStore fails its writes while fail is set.
type failingBlockStore struct {
	MemoryBlockStore
	fail bool
}

func (s *failingBlockStore) StoreBlockEnd(ctx context.Context, end int64) error {
	if s.fail {
		return errors.New("disk full")
	}
	return s.MemoryBlockStore.StoreBlockEnd(ctx, end)
}

// TestTransactionProducerIDsNeverReusedAfterCrash: ids come from blocks whose end
// is stored before the first id of the block is handed out; a restarted allocator
// starts at the stored end, above every id handed out, and a failed store hands
// out nothing.
func TestTransactionProducerIDsNeverReusedAfterCrash(t *testing.T) {
	ctx := context.Background()
	store := &failingBlockStore{}
	a, err := NewBlockAllocator(store, 3)
	require.NoError(t, err)
	seen := map[int64]bool{}
	for range 4 {
		id, err := a.NextProducerID(ctx)
		require.NoError(t, err)
		seen[id] = true
	}
	require.Equal(t, map[int64]bool{0: true, 1: true, 2: true, 3: true}, seen)
	end, _ := store.LoadBlockEnd()
	require.Equal(t, int64(6), end, "the second block is reserved before id 3 is handed out")

	// A crash: a new allocator on the same store.
	b, err := NewBlockAllocator(store, 3)
	require.NoError(t, err)
	id, err := b.NextProducerID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(6), id)
	b.NextProducerID(ctx)
	b.NextProducerID(ctx)
	store.fail = true
	_, err = b.NextProducerID(ctx)
	require.Error(t, err)
	store.fail = false
	id, err = b.NextProducerID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(9), id)
}

// TestTransactionAllocatorFailureChangesNothing: when the allocator fails, a
// first InitProducerID, a rotation at the last epoch, an end that must rotate and
// a fence that must rotate fail (or, for the fence, wait) and change nothing.
func TestTransactionAllocatorFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	store := &failingBlockStore{}
	ids, err := NewBlockAllocator(store, 1)
	require.NoError(t, err)
	markers := newMarkerLog()
	c, err := Open(ctx, &Options{ProducerIDs: ids, Markers: markers})
	require.NoError(t, err)
	p, err := c.InitProducerID(ctx, "tx", 0, nil)
	require.NoError(t, err)
	store.fail = true
	_, err = c.InitProducerID(ctx, "new", 0, nil)
	require.Error(t, err)
	_, err = c.Describe("new")
	require.ErrorIs(t, err, ErrTransactionalIDNotFound)
	_, err = c.InitProducerID(ctx, "", 0, nil)
	require.Error(t, err)

	setEpoch := func(epoch int16) {
		c.mu.Lock()
		c.mu.entries["tx"].md.ProducerEpoch = epoch
		c.mu.Unlock()
		p.ProducerEpoch = epoch
	}
	setEpoch(1<<15 - 2)
	_, err = c.InitProducerID(ctx, "tx", 0, nil) // must rotate
	require.Error(t, err)
	require.NoError(t, c.AddPartitionsToTxn(ctx, "tx", p, []TopicPartition{tp("a", 0)}))
	_, err = c.EndTxn(ctx, "tx", p, true) // must take a next producer id
	require.Error(t, err)
	_, err = c.InitProducerID(ctx, "tx", 0, nil) // must fence, rotating
	require.Error(t, err)
	md, err := c.Describe("tx")
	require.NoError(t, err)
	require.Equal(t, Ongoing, md.State)
	require.Equal(t, p, ProducerIDAndEpoch{md.ProducerID, md.ProducerEpoch})
	_, marked := markers.last(tp("a", 0))
	require.False(t, marked)

	store.fail = false
	r, err := c.EndTxn(ctx, "tx", p, true)
	require.NoError(t, err)
	require.Equal(t, ProducerIDAndEpoch{1, 0}, r.ProducerIDAndEpoch, "the failed reservations used no id")
}
