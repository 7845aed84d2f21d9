package log_test

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigFailedWriteChangesNothing: a topics.json write that fails
// (at the rename, at the directory fsync) leaves the topic's config as it was, in
// the store and after a reopen, and the partitions open.
func TestAlterTopicConfigFailedWriteChangesNothing(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpSyncDir} {
		t.Run(fmt.Sprint(op), func(t *testing.T) {
			mem := vfs.NewMem()
			var faults vfs.Switch
			s := openStore(t, vfs.NewFaulty(mem, faults.Inject), &log.Options{RetentionCheckInterval: -1})
			createTopic(t, s, "orders", log.TopicConfig{RetentionBytes: 5000})
			produce(t, s, "orders", 0, 3)
			before := describe(t, s, "orders").Config

			inject := vfs.Match("topics.json", vfs.FailAfter(op, 0, syscall.EIO))
			if op == vfs.OpSyncDir { // of the store's directory, after the rename
				inject = vfs.FailAfter(op, 0, syscall.EIO)
			}
			faults.Set(inject)
			err := s.AlterTopicConfig(testContext(t), "orders", log.TopicConfig{SegmentBytes: 4096})
			require.ErrorIs(t, err, syscall.EIO)
			faults.Set(nil)
			require.Equal(t, before, describe(t, s, "orders").Config)
			produceFrom(t, s, "orders", 0, 3, 1)

			require.NoError(t, s.Close())
			s = openStore(t, mem, nil)
			d := describe(t, s, "orders")
			require.Equal(t, before, d.Config)
			require.EqualValues(t, 4, d.Partitions[0].EndOffset)
		})
	}
}

// TestAlterTopicConfigRacingProducers: producers keep producing while the topic's
// partitions are reopened with new configs; a produce may fail only with
// ErrPartitionOffline (worth a retry), and every acknowledged record is there,
// once, after a reopen.
func TestAlterTopicConfigRacingProducers(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	ctx := testContext(t)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	acknowledged := make([][]string, 2)
	for p := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := fmt.Sprintf("%d/%d", p, i)
				err := s.Produce(ctx, &log.Record{Topic: "t", Partition: int32(p), ExplicitPartition: true, Value: []byte(v)})
				if err != nil {
					if !errors.Is(err, log.ErrPartitionOffline) {
						t.Errorf("produce: %v", err)
						return
					}
					continue
				}
				acknowledged[p] = append(acknowledged[p], v)
			}
		})
	}
	for i := range 20 {
		require.NoError(t, s.AlterTopicConfig(ctx, "t", log.TopicConfig{SegmentBytes: int64(1000 + i*100)}))
	}
	close(stop)
	wg.Wait()
	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	require.EqualValues(t, 2900, describe(t, s, "t").Config.SegmentBytes)
	for p := range 2 {
		got := consumeValues(t, s, "t", int32(p))
		require.Equal(t, acknowledged[p], got, "partition %d", p)
	}
}
