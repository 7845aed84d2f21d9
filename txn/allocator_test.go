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
