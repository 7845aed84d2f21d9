package partition_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// readAllAt returns the offsets a Reader at level returns from offset until it
// is at its end (TryNext nil).
func readAllAt(t testing.TB, p *partition.Partition, level partition.IsolationLevel, offset int64) []int64 {
	t.Helper()
	r := p.NewReader(offset, 200) // a few batches at a time
	require.NoError(t, r.SetIsolationLevel(level))
	var out []int64
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			return out
		}
		out = append(out, rec.Offset)
	}
}

// TestTxnLastStableOffset: the last stable offset stops at the first offset of the
// earliest open transaction and is the end offset once none is open; a reader in
// read_committed stops there, one in read_uncommitted does not; neither returns a
// marker.
func TestTxnLastStableOffset(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	appendBatches(t, p, 2) // 0-1
	require.EqualValues(t, 2, p.LastStableOffset())
	_, err := appendTransactional(p, 1, 0, 0, 2) // 2-3
	require.NoError(t, err)
	appendBatches(t, p, 1)                      // 4
	_, err = appendTransactional(p, 2, 0, 0, 1) // 5
	require.NoError(t, err)
	require.EqualValues(t, 6, p.EndOffset())
	require.EqualValues(t, 2, p.LastStableOffset())
	require.Equal(t, []int64{0, 1}, readAllAt(t, p, partition.ReadCommitted, 0))
	require.Equal(t, span(0, 6), readAllAt(t, p, partition.ReadUncommitted, 0))

	endTxn(t, p, 1, 0, partition.MarkerCommit) // 6
	require.EqualValues(t, 5, p.LastStableOffset(), "producer 2's transaction is open")
	require.Equal(t, span(0, 5), readAllAt(t, p, partition.ReadCommitted, 0))
	endTxn(t, p, 2, 0, partition.MarkerCommit) // 7
	require.EqualValues(t, 8, p.LastStableOffset())
	require.EqualValues(t, p.EndOffset(), p.LastStableOffset())
	require.Equal(t, span(0, 6), readAllAt(t, p, partition.ReadCommitted, 0), "markers are never returned")
	require.Equal(t, span(0, 6), readAllAt(t, p, partition.ReadUncommitted, 0), "markers are never returned")
	require.Equal(t, span(0, 6), offsetsReadAll(t, p))

	r := p.NewReader(0, 0)
	require.ErrorIs(t, r.SetIsolationLevel(5), partition.ErrInvalidArgument)
}

// offsetsRead is offsetsRead without checking values (markers have none of
// value()'s).
func offsetsReadAll(t testing.TB, p *partition.Partition) []int64 {
	t.Helper()
	var out []int64
	for offset := p.StartOffset(); ; {
		recs, err := p.Read(offset, 0, 1<<10)
		require.NoError(t, err)
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			out = append(out, r.Offset)
		}
		offset = recs[len(recs)-1].Offset + 1
	}
}

// TestTxnLastStableOffsetBoundedByHighWatermark: in a Replicated partition the
// last stable offset never passes the high watermark, and a transaction stays
// undecided until the high watermark passes its marker.
func TestTxnLastStableOffsetBoundedByHighWatermark(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Replicated: true})
	defer p.Close()
	appendBatches(t, p, 2)                       // 0-1
	_, err := appendTransactional(p, 1, 0, 0, 2) // 2-3
	require.NoError(t, err)
	marker := endTxn(t, p, 1, 0, partition.MarkerCommit) // 4
	appendBatches(t, p, 1)                               // 5
	require.EqualValues(t, 0, p.LastStableOffset())
	_, err = p.SetHighWatermark(1)
	require.NoError(t, err)
	require.EqualValues(t, 0, p.LastStableOffset(), "the high watermark stops at the batch's start")
	_, err = p.SetHighWatermark(4)
	require.NoError(t, err)
	require.EqualValues(t, 2, p.LastStableOffset(), "the marker is not below the high watermark")
	require.Equal(t, []int64{0, 1}, readAllAt(t, p, partition.ReadCommitted, 0))
	_, err = p.SetHighWatermark(marker + 1)
	require.NoError(t, err)
	require.EqualValues(t, marker+1, p.LastStableOffset())
	require.Equal(t, span(0, 4), readAllAt(t, p, partition.ReadCommitted, 0))
}

// TestTxnReadCommittedSkipsAborted: a reader in read_committed skips the records of
// an aborted transaction, found in the aborted-transaction index, including those
// interleaved with another transaction's, after a clean reopen and after a crash.
func TestTxnReadCommittedSkipsAborted(t *testing.T) {
	fsys := vfs.NewCrashable()
	p := openDir(t, fsys, leaderDir, partition.Options{})
	_, err := appendTransactional(p, 1, 0, 0, 2) // 0-1: aborted
	require.NoError(t, err)
	_, err = appendTransactional(p, 2, 0, 0, 2) // 2-3: committed
	require.NoError(t, err)
	_, err = appendTransactional(p, 1, 0, 2, 1) // 4: aborted
	require.NoError(t, err)
	abort := endTxn(t, p, 1, 0, partition.MarkerAbort) // 5
	require.EqualValues(t, 2, p.LastStableOffset())
	appendBatches(t, p, 1)                      // 6
	_, err = appendTransactional(p, 2, 0, 2, 1) // 7
	require.NoError(t, err)
	endTxn(t, p, 2, 0, partition.MarkerCommit)  // 8
	_, err = appendTransactional(p, 1, 1, 0, 1) // 9: a new epoch, aborted
	require.NoError(t, err)
	abort2 := endTxn(t, p, 1, 1, partition.MarkerAbort) // 10
	appendBatches(t, p, 1)                              // 11

	want := []partition.AbortedTxn{
		{ProducerID: 1, FirstOffset: 0, LastOffset: abort, LastStableOffset: 2},
		{ProducerID: 1, FirstOffset: 9, LastOffset: abort2, LastStableOffset: abort2 + 1},
	}
	check := func(t *testing.T, p *partition.Partition) {
		require.EqualValues(t, 12, p.LastStableOffset())
		require.Equal(t, []int64{2, 3, 6, 7, 11}, readAllAt(t, p, partition.ReadCommitted, 0))
		require.Equal(t, []int64{3, 6, 7, 11}, readAllAt(t, p, partition.ReadCommitted, 3))
		require.Equal(t, []int64{0, 1, 2, 3, 4, 6, 7, 9, 11}, readAllAt(t, p, partition.ReadUncommitted, 0))
		require.Equal(t, want, p.AbortedTxns(0, 12))
		require.Equal(t, want[:1], p.AbortedTxns(0, 9))
		require.Equal(t, want[1:], p.AbortedTxns(6, 12))
	}
	check(t, p)
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	t.Run("clean reopen", func(t *testing.T) {
		q := openDir(t, fsys, leaderDir, partition.Options{})
		defer q.Close()
		check(t, q)
	})
	t.Run("crash", func(t *testing.T) {
		q := openDir(t, crashed, leaderDir, partition.Options{})
		defer q.Close()
		check(t, q)
	})
}

// TestTxnReadCommittedNextWaitsForStable: Next in read_committed waits while the
// next record is in an open transaction, and returns once its marker is written.
func TestTxnReadCommittedNextWaitsForStable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
		defer p.Close()
		_, err := appendTransactional(p, 1, 0, 0, 1)
		require.NoError(t, err)
		appendBatches(t, p, 1)
		r := p.NewReader(0, 0)
		require.NoError(t, r.SetIsolationLevel(partition.ReadCommitted))
		got := make(chan int64, 1)
		go func() {
			rec, err := r.Next(context.Background())
			if err != nil {
				got <- -1
				return
			}
			got <- rec.Offset
		}()
		synctest.Wait()
		select {
		case o := <-got:
			t.Fatalf("Next returned %d inside an open transaction", o)
		default:
		}
		endTxn(t, p, 1, 0, partition.MarkerCommit)
		require.EqualValues(t, 0, <-got)
	})
}

// TestTxnLastStableOffsetAfterReopen: an open transaction holds the last stable
// offset back after a clean reopen (the producer state is then read from the
// snapshot at the log end at first use) and after a crash (rebuilt from the log).
func TestTxnLastStableOffsetAfterReopen(t *testing.T) {
	fsys := vfs.NewCrashable()
	p := openDir(t, fsys, leaderDir, partition.Options{})
	appendBatches(t, p, 2)
	first, err := appendTransactional(p, 1, 0, 0, 2)
	require.NoError(t, err)
	appendBatches(t, p, 1)
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	for name, f := range map[string]vfs.FS{"clean": fsys, "crash": crashed} {
		t.Run(name, func(t *testing.T) {
			q := openDir(t, f, leaderDir, partition.Options{})
			defer q.Close()
			require.Equal(t, []int64{0, 1}, readAllAt(t, q, partition.ReadCommitted, 0))
			require.Equal(t, first, q.LastStableOffset())
			endTxn(t, q, 1, 0, partition.MarkerCommit)
			require.Equal(t, q.EndOffset(), q.LastStableOffset())
		})
	}
}

// TestTxnReadCommittedWaiterWokenByDeleteRecords: a reader in read_committed
// waiting inside an open transaction is woken when DeleteRecordsBefore moves the
// start offset past it (the last stable offset never lies below the start), and
// finds its offset out of range.
func TestTxnReadCommittedWaiterWokenByDeleteRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
		defer p.Close()
		_, err := appendTransactional(p, 1, 0, 0, 2)
		require.NoError(t, err)
		appendBatches(t, p, 1)
		r := p.NewReader(0, 0)
		require.NoError(t, r.SetIsolationLevel(partition.ReadCommitted))
		got := make(chan error, 1)
		go func() {
			_, err := r.Next(context.Background())
			got <- err
		}()
		synctest.Wait()
		select {
		case err := <-got:
			t.Fatalf("Next returned %v inside an open transaction", err)
		default:
		}
		require.NoError(t, p.DeleteRecordsBefore(2))
		require.ErrorIs(t, <-got, partition.ErrOffsetOutOfRange)
	})
}
