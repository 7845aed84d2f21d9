package partition_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestGroupCommit: concurrent durable appends share fsyncs, and each is readable and
// durable when acknowledged.
func TestGroupCommit(t *testing.T) {
	fsys := vfs.NewCrashable()
	p := open(t, fsys, partition.Options{})
	const writers, each = 32, 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				off, err := p.Append(context.Background(), []partition.Record{{Value: []byte{byte(w), byte(i)}}})
				require.NoError(t, err)
				require.Greater(t, p.EndOffset(), off, "acknowledged means readable")
			}
		}()
	}
	close(start)
	wg.Wait()
	st := p.Stats()
	require.Equal(t, uint64(writers*each), st.Appends)
	require.LessOrEqual(t, st.Syncs, st.Appends)
	t.Logf("%d appends, %d fsyncs", st.Appends, st.Syncs)
	// Every acknowledged append survives a crash that drops everything unsynced.
	p2, err := partition.Open("/data/orders-0", &partition.Options{FS: fsys.Crash(vfs.DropUnsynced, 1)})
	require.NoError(t, err)
	defer p2.Close()
	require.Equal(t, int64(writers*each), p2.EndOffset())
	p.Close()
}

// TestSyncPeriodicInterval: with SyncPeriodic an append is acknowledged at once and
// fsynced within the interval.
func TestSyncPeriodicInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := vfs.NewCrashable()
		p := open(t, fsys, partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncPeriodic, Interval: time.Second}})
		defer p.Close()
		appendN(t, p, 3, 3)
		require.Equal(t, int64(3), p.EndOffset(), "readable before any fsync")
		require.Zero(t, p.Stats().Syncs)
		time.Sleep(time.Second) // fake time inside the bubble
		synctest.Wait()
		require.Equal(t, uint64(1), p.Stats().Syncs)
	})
}

// TestSyncPeriodicEveryRecords: the fsync comes once EveryRecords are unsynced.
func TestSyncPeriodicEveryRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := open(t, vfs.NewMem(), partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncPeriodic, EveryRecords: 10}})
		defer p.Close()
		appendN(t, p, 9, 1)
		synctest.Wait()
		require.Zero(t, p.Stats().Syncs)
		appendN(t, p, 1, 1)
		synctest.Wait()
		require.Equal(t, uint64(1), p.Stats().Syncs)
	})
}

// TestSyncNoneCloseFlushes: under SyncNone nothing is fsynced until Close, which
// makes everything durable.
func TestSyncNoneCloseFlushes(t *testing.T) {
	fsys := vfs.NewCrashable()
	p := open(t, fsys, partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	appendN(t, p, 100, 7)
	require.Zero(t, p.Stats().Syncs)
	require.NoError(t, p.Close())
	p = open(t, fsys.Crash(vfs.DropUnsynced, 7), partition.Options{})
	defer p.Close()
	require.Equal(t, int64(100), readAll(t, p, 0))
}

// TestConcurrentAppendAndRead: writers and tail-following readers at once; every
// reader sees every record, in order, exactly once.
func TestConcurrentAppendAndRead(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{SegmentBytes: 8192, Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	defer p.Close()
	const writers, batches, readers = 4, 100, 3
	total := int64(writers * batches * 3)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.NewReader(0, 4096)
			for want := int64(0); want < total; want++ {
				rec, err := r.Next(ctx)
				require.NoError(t, err)
				require.Equal(t, want, rec.Offset)
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				_, err := p.Append(ctx, []partition.Record{{Value: []byte{byte(w)}}, {Value: []byte{byte(i)}}, {}})
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, total, p.EndOffset())
}
