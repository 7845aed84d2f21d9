package log_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// failNthSyncDir returns an Injector failing the n-th (1-based) SyncDir of path,
// and only that one.
func failNthSyncDir(path string, n int64) vfs.Injector {
	var count atomic.Int64
	return func(op vfs.Op, p string) *vfs.Fault {
		if op == vfs.OpSyncDir && p == path && count.Add(1) == n {
			return &vfs.Fault{}
		}
		return nil
	}
}

// DeleteTopic says "not deleted" when writing topics.json fails, and keeps serving
// the topic; but if the failure came after topics.json was renamed (its directory
// fsync), the file on disk no longer lists the topic and markDeleted's undo only
// renames the directories back: the next Open does not know the topic (its
// directories are left as unlisted, unmarked ones). createPartitions rolls
// topics.json back in the same case; markDeleted does not.
func TestReview2DeleteTopicFailedMetadataSyncLosesTopic(t *testing.T) {
	var faults vfs.Switch
	mem := vfs.NewMem()
	fsys := vfs.NewFaulty(mem, faults.Inject)
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	produce(t, s, "orders", 0, 3)
	ctx := testContext(t)

	// SyncDir("/data") #1: after the -delete renames; #2: in WriteFileAtomic, after
	// topics.json.tmp was renamed over topics.json.
	faults.Set(failNthSyncDir("/data", 2))
	err = s.DeleteTopic(ctx, "orders")
	faults.Set(nil)
	require.Error(t, err)
	require.ErrorContains(t, err, "not deleted")
	t.Log(err)
	require.Equal(t, int64(3), describe(t, s, "orders").Partitions[0].EndOffset, "the store still serves it")
	require.NoError(t, s.Close())

	s, err = log.Open("/data", &log.Options{FS: mem})
	require.NoError(t, err)
	defer s.Close()
	topics, err := s.ListTopics()
	require.NoError(t, err)
	require.Contains(t, topics, "orders", "DeleteTopic said the topic was not deleted, and the store served it until Close")
}

// A coordinator running on __consumer_offsets keeps the *partition.Partition it
// replayed. RepairPartition of the offsets topic (online, damaged while open)
// closes that partition and opens a new one, but the coordinator is not restarted:
// every later group commit writes to the closed partition.
func TestReview2RepairOffsetsTopicLeavesCoordinatorOnClosedPartition(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := testContext(t)
	s := storeWithOffsets(t, fsys) // group "billing" committed orders-0 at 3
	defer s.Close()
	for i := range 3 {
		require.NoError(t, s.CommitGroupOffsets(ctx, "billing", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: int64(i)}}))
	}
	// Bit rot in the second batch of the offsets log, found by Verify.
	flipRecordByte(t, fsys, "/data/"+log.OffsetsTopic+"-0/"+segment.FileName(0, segment.LogSuffix), 1)
	_, err := s.RepairPartition(ctx, tp(log.OffsetsTopic, 0), &partition.RepairOptions{KeepLater: true})
	require.NoError(t, err)
	require.Empty(t, s.OfflinePartitions())

	err = s.CommitGroupOffsets(ctx, "billing", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 4}})
	require.NoError(t, err, "a commit after the offsets topic was repaired and is back online")
}

// A GroupConsumer that owns a partition which goes offline while assigned (here:
// RepairPartition finds damage and the repair itself fails, so the partition stays
// offline) returns the offline error from every Poll, not once as the
// GroupConsumer documentation promises for an offline partition.
func TestReview2GroupConsumerPartitionOfflineWhileOwned(t *testing.T) {
	var faults vfs.Switch
	mem := vfs.NewMem()
	fsys := vfs.NewFaulty(mem, faults.Inject)
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	defer s.Close()
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	produceFrom(t, s, "orders", 0, 0, 2)
	produceFrom(t, s, "orders", 0, 2, 2)
	produce(t, s, "orders", 1, 2)
	g, err := s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"orders"}})
	require.NoError(t, err)
	defer g.Close()
	require.Len(t, pollGroupN(t, g, 6), 6)

	flipRecordByte(t, mem, "/data/orders-0/"+segment.FileName(0, segment.LogSuffix), 1)
	faults.Set(vfs.Match("/data/orders-0", vfs.FailOp(vfs.OpMkdir, nil))) // the repair cannot keep its copy
	_, err = s.RepairPartition(ctx, tp("orders", 0), nil)
	faults.Set(nil)
	require.Error(t, err)
	t.Log(err)
	require.Len(t, s.OfflinePartitions(), 1)

	offlineErrors := 0
	for range 5 {
		pollCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err := g.Poll(pollCtx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			require.ErrorIs(t, err, log.ErrPartitionOffline)
			offlineErrors++
			t.Log(err)
		}
	}
	require.LessOrEqual(t, offlineErrors, 1, "offline error once, then the other partitions are served (waiting)")
}
