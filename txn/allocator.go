package txn

import (
	"context"
	"math"
	"sync"
)

// ProducerIDAllocator hands out producer ids, each once, for as long as its
// storage lives: Kafka's ProducerIdManager. The coordinator calls it for a new
// transactional id, when an id's epochs run out, and for an idempotent producer
// without transactional id.
type ProducerIDAllocator interface {
	NextProducerID(ctx context.Context) (int64, error)
}

// BlockStore keeps the end of the last block of producer ids reserved: all an
// allocator must not forget. The log package keeps it in a small checksummed
// file, written with a temp file, fsync and rename.
type BlockStore interface {
	// LoadBlockEnd returns the stored end (the first id not reserved), 0 if none.
	LoadBlockEnd() (int64, error)
	// StoreBlockEnd stores end durably before returning nil.
	StoreBlockEnd(ctx context.Context, end int64) error
}

// BlockAllocator is a ProducerIDAllocator that reserves ids in blocks: before it
// hands out the first id of a block it stores the block's end, so that after a
// crash it starts above every id it may have handed out (the rest of that block is
// skipped, never reused). One write per block, as Kafka's controller allocates
// ProducerIdsBlocks. Safe for concurrent use.
type BlockAllocator struct {
	store     BlockStore
	blockSize int64

	mu struct {
		sync.Mutex
		next, end int64 // ids next..end-1 are reserved and not yet handed out
	}
}

// NewBlockAllocator returns an allocator over store reserving blockSize ids at a
// time (DefaultProducerIDBlockSize if 0 or less). It reads the stored end: ids
// start there.
func NewBlockAllocator(store BlockStore, blockSize int64) (*BlockAllocator, error) {
	if blockSize <= 0 {
		blockSize = DefaultProducerIDBlockSize
	}
	end, err := store.LoadBlockEnd()
	if err != nil {
		return nil, errorf("strata/txn: loading the producer id block: %w", err)
	}
	if end < 0 {
		return nil, errorf("strata/txn: stored producer id block end %d: %w", end, ErrCorrupt)
	}
	a := &BlockAllocator{store: store, blockSize: blockSize}
	a.mu.next, a.mu.end = end, end
	return a, nil
}

// NextProducerID implements ProducerIDAllocator. When a block is used up it
// stores the next block's end first; if that fails it returns the error and hands
// out nothing.
func (a *BlockAllocator) NextProducerID(ctx context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mu.next == a.mu.end {
		if a.mu.end > math.MaxInt64-a.blockSize {
			return NoProducerID, ErrProducerIDsExhausted
		}
		end := a.mu.end + a.blockSize
		if err := a.store.StoreBlockEnd(ctx, end); err != nil {
			return NoProducerID, errorf("strata/txn: reserving producer ids up to %d: %w", end, err)
		}
		a.mu.end = end
	}
	id := a.mu.next
	a.mu.next++
	return id, nil
}

// MemoryBlockStore is a BlockStore in memory, for tests and for stores that
// keep nothing.
type MemoryBlockStore struct {
	mu  sync.Mutex
	end int64
}

// LoadBlockEnd implements BlockStore.
func (s *MemoryBlockStore) LoadBlockEnd() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end, nil
}

// StoreBlockEnd implements BlockStore. It fails only if ctx has ended.
func (s *MemoryBlockStore) StoreBlockEnd(ctx context.Context, end int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end = end
	return nil
}
