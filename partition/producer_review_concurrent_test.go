package partition_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestIdempotentConcurrentProducers: producers append and retry from their own
// goroutines on a partition reopened cleanly (its state still unread in its
// snapshot: the first appends race to read it) while others roll, apply retention,
// compact and read. Every retry of a producer's newest batch is a duplicate at its
// offset, every new batch is accepted, and -race sees the state read and written
// under appendMu only.
func TestIdempotentConcurrentProducers(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 2048, Compact: true}
	p, _ := producedPartition(t, fsys, leaderDir, opts, 0, 3)
	require.NoError(t, p.Close())
	p = openDir(t, fsys, leaderDir, opts)
	defer p.Close()

	const producers, batches = 4, 60
	errs := make(chan error, producers+1)
	var wg sync.WaitGroup
	for id := range int64(producers) {
		wg.Go(func() {
			next := int32(0)
			if id == 0 {
				next = 6 // producedPartition's three batches of two
			}
			for range batches {
				base, err := appendProduced(p, id, 0, next, 2)
				if err != nil {
					errs <- err
					return
				}
				again, err := appendProduced(p, id, 0, next, 2)
				if !errors.Is(err, partition.ErrDuplicateSequence) || again != base {
					errs <- errors.Join(errors.New("a retry was not a duplicate at its offset"), err)
					return
				}
				next += 2
			}
		})
	}
	stop := make(chan struct{})
	var background sync.WaitGroup
	background.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := p.Roll(); err != nil {
				errs <- err
				return
			}
			if _, err := p.ApplyRetention(); err != nil {
				errs <- err
				return
			}
			if _, err := p.ForceCompact(context.Background()); err != nil {
				errs <- err
				return
			}
			if _, err := p.FetchReplica(nil, p.StartOffset(), 4096); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	background.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
