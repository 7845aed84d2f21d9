package log_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestReviewRecoveryPointsConcurrency: the recovery points recorded every
// millisecond while producers, Store.Sync, DeleteTopic and CreateTopic of a name,
// AddPartitions, RepairPartition of a damaged partition (taken offline, repaired,
// reopened) and ReopenPartition run, and Close in the middle of it all; run it with
// -race. The store then opens with no partition offline.
func TestReviewRecoveryPointsConcurrency(t *testing.T) {
	ctx := context.Background()
	fsys := vfs.NewCrashable()
	opts := &log.Options{FS: fsys, RetentionCheckInterval: -1, RecoveryPointInterval: time.Millisecond}
	s, err := log.Open("/data", opts)
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 3, SegmentBytes: 1 << 10})
	createTopic(t, s, "grow", log.TopicConfig{Partitions: 1})
	createTopic(t, s, "tmp", log.TopicConfig{Partitions: 2})

	var stop atomic.Bool
	var wg sync.WaitGroup
	var repaired atomic.Int64
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				f()
			}
		}()
	}
	for p := range int32(3) {
		run(func() {
			_ = s.Produce(ctx, &log.Record{Topic: "orders", Partition: p, ExplicitPartition: true, Value: make([]byte, 100)})
		})
	}
	run(func() {
		_ = s.Produce(ctx, &log.Record{Topic: "tmp", Value: []byte("x")})
	})
	run(func() { _ = s.Sync(ctx) })
	run(func() {
		_ = s.DeleteTopic(ctx, "tmp")
		_ = s.CreateTopic(ctx, "tmp", log.TopicConfig{Partitions: 2})
	})
	run(func() {
		if d, err := s.DescribeTopic("grow"); err == nil && len(d.Partitions) < 40 {
			_ = s.AddPartitions(ctx, "grow", len(d.Partitions)+1)
		}
		time.Sleep(time.Millisecond)
	})
	run(func() {
		if d, err := s.DescribeTopic("orders"); err == nil && d.Partitions[1].Segments > 1 {
			flipByteQuietly(fsys, "/data/orders-1/"+segment.FileName(0, segment.LogSuffix), segment.BatchHeaderSize+2)
			if _, err := s.RepairPartition(ctx, tp("orders", 1), &partition.RepairOptions{KeepLater: true}); err == nil {
				repaired.Add(1)
			}
		}
		_ = s.ReopenPartition(ctx, tp("orders", 1))
		time.Sleep(time.Millisecond)
	})
	var images []*vfs.CrashableFS
	for range 6 {
		time.Sleep(50 * time.Millisecond)
		images = append(images, fsys.Crash(vfs.DropUnsynced, 0)) // the power goes, in the middle of it all
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	require.NoError(t, <-closed)
	t.Logf("%d repairs", repaired.Load())

	s, err = log.Open("/data", opts)
	require.NoError(t, err)
	require.Empty(t, s.OfflinePartitions())
	require.NoError(t, s.Close())
	for i, image := range images {
		s, err = log.Open("/data", &log.Options{FS: image, RetentionCheckInterval: -1, RecoveryPointInterval: -1})
		require.NoError(t, err)
		for _, offline := range s.OfflinePartitions() {
			if offline.TopicPartition != tp("orders", 1) { // damaged on purpose
				t.Errorf("image %d: %v", i, offline)
			}
		}
		require.NoError(t, s.Close())
	}
}

// flipByteQuietly flips a bit of the byte at pos in the file at path, if it can.
func flipByteQuietly(fsys vfs.FS, path string, pos int64) {
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, pos); err == nil {
		b[0] ^= 0x40
		_, _ = f.WriteAt(b, pos)
	}
}
