package partition_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnMarkerAboveHighWatermarkUndecidedAfterReopen: a Replicated partition's
// marker above its high watermark decides nothing (truncation may still remove
// it), and still decides nothing after a clean reopen, although the producer
// state then comes from the snapshot at the log end, taken after the marker: the
// last stable offset stays below the transaction until the high watermark passes
// the marker.
func TestTxnMarkerAboveHighWatermarkUndecidedAfterReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := vfs.NewMem()
		opts := partition.Options{Replicated: true}
		p := openDir(t, fsys, leaderDir, opts)
		_, err := p.Append(t.Context(), records(0, 1, 1<<30))
		require.NoError(t, err)
		first, err := appendTransactional(p, 3, 0, 0, 2)
		require.NoError(t, err)
		marker := endTxn(t, p, 3, 0, partition.MarkerCommit)
		hw, err := p.SetHighWatermark(marker)
		require.NoError(t, err)
		require.Equal(t, marker, hw)
		require.Equal(t, first, p.LastStableOffset(), "the marker is above the high watermark")
		require.NoError(t, p.Close())

		p = openDir(t, fsys, leaderDir, opts)
		defer p.Close()
		r := p.NewReader(0, 1<<20)
		require.NoError(t, r.SetIsolationLevel(partition.ReadCommitted))
		// A reader waits at the high watermark, the log start offset at Open; the
		// owner's high watermark, below the snapshot, wakes it.
		next := make(chan int64, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rec, err := r.Next(ctx)
			if err != nil {
				next <- -1
				return
			}
			next <- rec.Offset
		}()
		synctest.Wait() // the reader waits
		_, err = p.SetHighWatermark(marker)
		require.NoError(t, err)
		require.Equal(t, int64(0), <-next)
		require.Equal(t, first, p.LastStableOffset(), "the marker is still above the high watermark")
		rec, err := r.TryNext()
		require.NoError(t, err)
		require.Nil(t, rec, "read_committed stops below the transaction")

		_, err = p.SetHighWatermark(marker + 1)
		require.NoError(t, err)
		require.Equal(t, marker+1, p.LastStableOffset())
		rec, err = r.TryNext()
		require.NoError(t, err)
		require.Equal(t, first, rec.Offset)
	})
}
