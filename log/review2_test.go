package log_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
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
	// Refused live (the coordinator holds it); nothing changes, commits go on.
	_, err := s.RepairPartition(ctx, tp(log.OffsetsTopic, 0), &partition.RepairOptions{KeepLater: true})
	require.ErrorIs(t, err, log.ErrCorrupt)
	require.Empty(t, s.OfflinePartitions())
	err = s.CommitGroupOffsets(ctx, "billing", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 4}})
	require.NoError(t, err)

	// With the store closed, log.Repair; the next Open replays what is left.
	require.NoError(t, s.Close())
	report, err := log.Repair("/data", tp(log.OffsetsTopic, 0), &log.Options{FS: fsys}, &partition.RepairOptions{KeepLater: true})
	require.NoError(t, err)
	require.NotEmpty(t, report.Lost)
	s = openStore(t, fsys, nil)
	err = s.CommitGroupOffsets(ctx, "billing", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 5}})
	require.NoError(t, err, "a commit after the offsets topic was repaired")
	committed, err := s.CommittedOffsets(ctx, "billing")
	require.NoError(t, err)
	require.Equal(t, int64(5), committed[tp("orders", 0)].Offset)
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

// A mark of exactly 255 bytes is taken as a cut topic name and matches every topic
// it is a prefix of. Topic t (229 bytes) is offline (its directory is missing);
// topic u = t+"-b" is deleted, and removing its "-delete" directory fails
// (deleted, committed: Open would remove it). ReopenPartition of t-0 then claims
// u's deleted directory ("<t>-0.<id>-delete": u's name cut to t) and serves the
// deleted topic's records as t's partition 0. The same happens at Open after a
// crash between DeleteTopic's commit and its removal.
func TestReview2CutMarkResurrectsDeletedTopicAsAnother(t *testing.T) {
	short := strings.Repeat("t", 229)
	long := short + "-b"
	var faults vfs.Switch
	mem := vfs.NewMem()
	fsys := vfs.NewFaulty(mem, faults.Inject)
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, short, log.TopicConfig{})
	createTopic(t, s, long, log.TopicConfig{})
	produce(t, s, long, 0, 7) // u's records
	require.NoError(t, s.Close())
	require.NoError(t, mem.RemoveAll("/data/"+short+"-0")) // t-0 lost: offline

	s, err = log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	defer s.Close()
	ctx := testContext(t)
	require.Len(t, s.OfflinePartitions(), 1)
	faults.Set(vfs.FailOp(vfs.OpRemoveAll, nil))
	err = s.DeleteTopic(ctx, long)
	faults.Set(nil)
	require.ErrorContains(t, err, "deleted, but removing its files failed")

	err = s.ReopenPartition(ctx, tp(short, 0))
	if err == nil {
		require.Equal(t, int64(0), describe(t, s, short).Partitions[0].EndOffset,
			"%s-0 came back holding the records of the deleted topic %s", short[:8]+"...", long[:8]+"...")
	}
}

// A store directory without topics.json but with partition directories is
// refused (metadata lost); one with only marked directories gets a new, empty
// topics.json and its marked directories are removed, although without
// topics.json nothing tells a deletion that committed from one that did not.
func TestReview2OpenWithoutMetadataRemovesMarkedDirectories(t *testing.T) {
	mem := vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: mem})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produce(t, s, "orders", 0, 3)
	require.NoError(t, s.Close())
	// A DeleteTopic interrupted before its commit (the directory renamed), then
	// topics.json lost.
	require.NoError(t, mem.Rename("/data/orders-0", "/data/orders-0.0123456789abcdef-delete"))
	require.NoError(t, mem.Remove("/data/topics.json"))

	s, err = log.Open("/data", &log.Options{FS: mem})
	if err == nil {
		s.Close()
	}
	_, statErr := mem.Stat("/data/orders-0.0123456789abcdef-delete")
	require.NoError(t, statErr, "Open without topics.json removed a partition directory whose deletion it cannot know committed (Open err: %v)", err)
}

// When two marked directories could be a listed partition's, settleDir leaves it
// offline saying "move the wrong ones away", and then load's removeUnclaimed
// removes both, the right one included. Here: u = t+"-b" was deleted (committed,
// its removal failed: "<t>-0.<id1>-delete", cut), then a DeleteTopic of t was
// interrupted before its commit ("<t>-0.<id2>-delete"): t is still listed, and
// its records are removed by the next Open.
func TestReview2AmbiguousMarksAreBothRemoved(t *testing.T) {
	short := strings.Repeat("t", 229)
	long := short + "-b"
	var faults vfs.Switch
	mem := vfs.NewMem()
	fsys := vfs.NewFaulty(mem, faults.Inject)
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, short, log.TopicConfig{})
	createTopic(t, s, long, log.TopicConfig{})
	produce(t, s, short, 0, 5) // t's records
	faults.Set(vfs.FailOp(vfs.OpRemoveAll, nil))
	require.ErrorContains(t, s.DeleteTopic(context.Background(), long), "deleted, but removing its files failed")
	faults.Set(nil)
	require.NoError(t, s.Close())
	// DeleteTopic(t) renamed t-0 under its mark and crashed before writing topics.json.
	// A mark's id begins with the hash of the whole topic name (FORMAT.md), which
	// tells t's cut mark from the one the deleted topic t-b left.
	require.NoError(t, mem.Rename("/data/"+short+"-0", "/data/"+short+"-0."+topicHash(short)+"000000aa-delete"))

	s, err = log.Open("/data", &log.Options{FS: mem})
	require.NoError(t, err)
	defer s.Close()
	require.Empty(t, s.OfflinePartitions())
	require.Equal(t, int64(5), describe(t, s, short).Partitions[0].EndOffset, "t-0 restored from its own mark")
}

// topicHash is the hash of a topic name that begins its marks' ids: FNV-1a, 32 bits,
// 8 hex digits.
func topicHash(topic string) string {
	h := fnv.New32a()
	h.Write([]byte(topic))
	return fmt.Sprintf("%08x", h.Sum32())
}

// DeleteTopic deletes the topic's committed offsets through the running
// coordinator; with __consumer_offsets offline there is none, and the deletion
// is skipped silently. Once the offsets topic is back, a group holds the deleted
// topic's offsets for the new topic of the same name, and resumes it at offset 3,
// skipping records it never read.
func TestReview2DeleteTopicWithOffsetsOfflineKeepsStaleOffsets(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := testContext(t)
	s := storeWithOffsets(t, fsys) // "billing" committed orders-0 at 3
	require.NoError(t, s.Close())
	const checkpoint = "/data/" + log.OffsetsTopic + "-0/partition.checkpoint"
	good, err := vfs.ReadFile(fsys, checkpoint)
	require.NoError(t, err)
	require.NoError(t, vfs.WriteFileAtomic(fsys, checkpoint, []byte("junk\n")))

	s = openStore(t, fsys, nil)
	require.Len(t, s.OfflinePartitions(), 1)
	// Refused while the offsets cannot be deleted with the topic; nothing changes.
	require.ErrorIs(t, s.DeleteTopic(ctx, "orders"), log.ErrPartitionOffline)
	require.Positive(t, describe(t, s, "orders").Partitions[0].EndOffset, "the topic is still there")
	require.NoError(t, vfs.WriteFileAtomic(fsys, checkpoint, good))
	require.NoError(t, s.ReopenPartition(ctx, tp(log.OffsetsTopic, 0)))
	require.NoError(t, s.DeleteTopic(ctx, "orders"))
	createTopic(t, s, "orders", log.TopicConfig{})
	produce(t, s, "orders", 0, 5)

	committed, err := s.CommittedOffsets(ctx, "billing")
	require.NoError(t, err)
	require.Empty(t, committed, "offsets of the deleted topic apply to the new one")
}

// After a crash in the middle of CreateTopic (committed, directory not yet renamed)
// or of DeleteTopic (directory renamed, not committed), Open settles the store
// with no loss; Scrub (strata verify) calls the same directory "missing", corrupt,
// exits 1 and points to 'strata repair', which cannot repair it either.
func TestReview2ScrubReportsInterruptedChangeAsCorrupt(t *testing.T) {
	mem := vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: mem})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produce(t, s, "orders", 0, 3)
	require.NoError(t, s.Close())
	require.NoError(t, mem.Rename("/data/orders-0", "/data/orders-0.0123456789abcdef-delete"))

	report, err := log.Scrub("/data", &log.Options{FS: mem})
	require.NoError(t, err)
	scrubHealthy := report.Healthy()
	_, repairErr := log.Repair("/data", tp("orders", 0), &log.Options{FS: mem}, nil)

	s, err = log.Open("/data", &log.Options{FS: mem})
	require.NoError(t, err)
	require.Empty(t, s.OfflinePartitions())
	require.Equal(t, int64(3), describe(t, s, "orders").Partitions[0].EndOffset)
	require.NoError(t, s.Close())
	require.True(t, scrubHealthy, "Scrub: %v; Repair: %v", report.Partitions, repairErr)
}

// Same setup as TestReview2GroupConsumerPartitionOfflineWhileOwned: once an owned
// partition went offline with delivered, uncommitted records, Commit fails as a
// whole (CommitOffsets refuses any offline partition), so the consumer's other
// partitions are never committed again (auto-commit included) while it is offline.
func TestReview2GroupCommitFailsWhileOwnedPartitionOffline(t *testing.T) {
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
	g, err := s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"orders"}, DisableAutoCommit: true})
	require.NoError(t, err)
	defer g.Close()
	require.Len(t, pollGroupN(t, g, 6), 6)

	flipRecordByte(t, mem, "/data/orders-0/"+segment.FileName(0, segment.LogSuffix), 1)
	faults.Set(vfs.Match("/data/orders-0", vfs.FailOp(vfs.OpMkdir, nil)))
	_, err = s.RepairPartition(ctx, tp("orders", 0), nil)
	faults.Set(nil)
	require.Error(t, err)

	require.NoError(t, g.Commit(ctx), "commits its online partition orders-1")
}
