package log_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// damagedStore returns a closed store in /data of a MemFS: topic "orders" (3
// partitions, 4 records each) and "audit" (1 partition, 2 records), whose orders-1
// has a partition.checkpoint that fails its CRC; the good checkpoint is returned,
// to repair it with.
func damagedStore(t *testing.T) (fsys *vfs.MemFS, goodCheckpoint []byte) {
	t.Helper()
	fsys = vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 3})
	createTopic(t, s, "audit", log.TopicConfig{})
	for p := range int32(3) {
		produce(t, s, "orders", p, 4)
	}
	produce(t, s, "audit", 0, 2)
	require.NoError(t, s.Close())
	const checkpoint = "/data/orders-1/partition.checkpoint"
	goodCheckpoint, err = vfs.ReadFile(fsys, checkpoint)
	require.NoError(t, err)
	damaged := []byte(string(goodCheckpoint))
	damaged[len("strata-partition-checkpoint 1\nlog-start-offset ")] ^= 0x01 // 0 -> 1
	require.NoError(t, vfs.WriteFileAtomic(fsys, checkpoint, damaged))
	return fsys, goodCheckpoint
}

func requireOffline(t *testing.T, err error, tp string) {
	t.Helper()
	require.ErrorIs(t, err, log.ErrPartitionOffline)
	require.ErrorIs(t, err, log.ErrCorrupt)
	require.ErrorContains(t, err, "partition "+tp+" is offline")
}

// One corrupt partition does not take the store down: Open succeeds, logs it at
// Error, lists it as offline (OfflinePartitions, DescribeTopic, Stats), every call
// that needs it fails with ErrPartitionOffline naming it and wrapping the cause,
// and the rest of the store serves normally.
func TestCorruptPartitionIsOffline(t *testing.T) {
	fsys, _ := damagedStore(t)
	var logs logBuffer
	s := openStore(t, fsys, &log.Options{Logger: logs.logger()})
	ctx := testContext(t)
	orders1 := tp("orders", 1)

	offline := s.OfflinePartitions()
	require.Len(t, offline, 1)
	require.Equal(t, orders1, offline[0].TopicPartition)
	requireOffline(t, offline[0], "orders-1")
	require.Contains(t, logs.String(), "level=ERROR")
	require.Contains(t, logs.String(), "partition=orders-1")
	d := describe(t, s, "orders")
	require.Nil(t, d.Partitions[0].Offline)
	requireOffline(t, d.Partitions[1].Offline, "orders-1")
	require.Equal(t, int64(4), d.Partitions[2].EndOffset)
	requireOffline(t, s.Stats().Topics[1].Partitions[1].Offline, "orders-1")

	// Writes.
	requireOffline(t, s.Produce(ctx, &log.Record{Topic: "orders", Partition: 1, ExplicitPartition: true, Value: []byte("v")}), "orders-1")
	p, err := s.NewProducer(log.ProducerOptions{})
	require.NoError(t, err)
	got := make(chan error, 1)
	p.Produce(ctx, &log.Record{Topic: "orders", Partition: 1, ExplicitPartition: true}, func(_ *log.Record, err error) { got <- err })
	requireOffline(t, <-got, "orders-1")
	require.NoError(t, p.Close())
	requireOffline(t, s.DeleteRecords(ctx, orders1, 1), "orders-1")

	// Reads.
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	requireOffline(t, c.Assign(tp("orders", 0), orders1), "orders-1")
	require.Empty(t, c.Assignment(), "nothing changed")
	requireOffline(t, c.Seek(orders1, 0), "orders-1")
	require.NoError(t, c.Assign(tp("orders", 0), tp("orders", 2)))
	require.Len(t, pollN(t, c, 8), 8)

	// Group offsets.
	requireOffline(t, s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{orders1: {Offset: 1}}), "orders-1")

	// The rest of the store serves: other partitions, other topics, background work.
	produce(t, s, "orders", 0, 1)
	produce(t, s, "audit", 0, 1)
	_, err = s.ApplyRetention()
	require.NoError(t, err)
	_, err = s.Compact(ctx)
	require.NoError(t, err)
}

// Repair, then ReopenPartition: the partition is online without a restart.
func TestReopenPartitionAfterRepair(t *testing.T) {
	fsys, good := damagedStore(t)
	s := openStore(t, fsys, nil)
	ctx := testContext(t)
	orders1 := tp("orders", 1)
	requireOffline(t, s.ReopenPartition(ctx, orders1), "orders-1") // still damaged
	require.Len(t, s.OfflinePartitions(), 1)

	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/orders-1/partition.checkpoint", good))
	require.NoError(t, s.ReopenPartition(ctx, orders1))
	require.Empty(t, s.OfflinePartitions())
	require.NoError(t, s.ReopenPartition(ctx, orders1), "online: nothing to do")
	produce(t, s, "orders", 1, 1)
	require.Equal(t, int64(5), describe(t, s, "orders").Partitions[1].EndOffset)
	require.ErrorIs(t, s.ReopenPartition(ctx, tp("orders", 9)), log.ErrUnknownPartition)
	require.ErrorIs(t, s.ReopenPartition(ctx, tp("nope", 0)), log.ErrUnknownTopic)
}

// A topic with an offline partition can be deleted, and made again.
func TestDeleteTopicWithOfflinePartition(t *testing.T) {
	fsys, _ := damagedStore(t)
	s := openStore(t, fsys, nil)
	ctx := testContext(t)
	require.NoError(t, s.DeleteTopic(ctx, "orders"))
	require.Empty(t, s.OfflinePartitions())
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 3})
	require.Equal(t, int64(0), describe(t, s, "orders").Partitions[1].EndOffset)
}

// A group consumer assigned an offline partition neither hangs nor spins: its next
// Poll returns the offline error once, later Polls serve its other partitions;
// after ReopenPartition it reads the repaired partition from the group's
// committed offset.
func TestGroupConsumerWithOfflinePartition(t *testing.T) {
	fsys, good := damagedStore(t)
	s := openStore(t, fsys, nil)
	ctx := testContext(t)
	require.NoError(t, s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 0}}))
	g, err := s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"orders"}})
	require.NoError(t, err)
	defer g.Close()

	var records []*log.Record
	offlineErrors := 0
	for len(records) < 8 {
		got, err := g.Poll(ctx)
		if err != nil {
			requireOffline(t, err, "orders-1")
			offlineErrors++
			continue
		}
		records = append(records, got...)
	}
	require.Equal(t, 1, offlineErrors)
	for _, r := range records {
		require.NotEqual(t, int32(1), r.Partition)
	}
	require.Len(t, records, 8)
	requireOffline(t, g.CommitOffsets(ctx, map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 1): {Offset: 1}}), "orders-1")
	require.NoError(t, g.Commit(ctx), "commits its other partitions")

	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/orders-1/partition.checkpoint", good))
	require.NoError(t, s.ReopenPartition(ctx, tp("orders", 1)))
	got := pollGroupN(t, g, 4)
	for _, r := range got {
		require.Equal(t, int32(1), r.Partition)
	}
}

func pollGroupN(t *testing.T, g *log.GroupConsumer, n int) []*log.Record {
	t.Helper()
	ctx := testContext(t)
	var out []*log.Record
	for len(out) < n {
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		out = append(out, records...)
	}
	return out
}

// An offline __consumer_offsets: Open succeeds, every group call returns the
// offline error, and plain topics keep working.
func TestOfflineOffsetsTopic(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := testContext(t)
	s := storeWithOffsets(t, fsys)
	require.NoError(t, s.Close())
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/__consumer_offsets-0/partition.checkpoint", []byte("junk\n")))

	s = openStore(t, fsys, nil)
	const name = log.OffsetsTopic + "-0"
	_, err := s.ListGroups()
	requireOffline(t, err, name)
	_, err = s.DescribeGroup("billing")
	requireOffline(t, err, name)
	_, err = s.CommittedOffsets(ctx, "billing")
	requireOffline(t, err, name)
	requireOffline(t, s.CommitGroupOffsets(ctx, "billing", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 1}}), name)
	requireOffline(t, s.DeleteGroup(ctx, "billing"), name)
	_, err = s.NewGroupConsumer(log.GroupConsumerOptions{Group: "billing", Topics: []string{"orders"}})
	requireOffline(t, err, name)

	produce(t, s, "orders", 0, 1)
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Assign(tp("orders", 0)))
	require.Len(t, pollN(t, c, 6), 6)
}

// A partition directory that is a symlink is offline (vfs.ErrSymlink), never
// followed: nothing of what it points to is opened, changed or removed.
func TestSymlinkedPartitionDirectoryIsOffline(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s, err := log.Open(data, nil)
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	produce(t, s, "orders", 1, 3)
	require.NoError(t, s.Close())
	elsewhere := filepath.Join(dir, "elsewhere")
	require.NoError(t, os.Rename(filepath.Join(data, "orders-1"), elsewhere))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(data, "orders-1")))
	before, err := os.ReadDir(elsewhere)
	require.NoError(t, err)

	s, err = log.Open(data, nil)
	require.NoError(t, err)
	offline := s.OfflinePartitions()
	require.Len(t, offline, 1)
	require.ErrorIs(t, offline[0], log.ErrPartitionOffline)
	require.ErrorIs(t, offline[0], vfs.ErrSymlink)
	require.ErrorContains(t, offline[0], "orders-1")
	produce(t, s, "orders", 0, 1)
	require.NoError(t, s.DeleteTopic(context.Background(), "orders"))
	require.NoError(t, s.Close())
	after, err := os.ReadDir(elsewhere)
	require.NoError(t, err)
	require.Equal(t, len(before), len(after), "the link's target is untouched")
	_, err = os.Lstat(filepath.Join(data, "orders-1"))
	require.NoError(t, err, "the link itself is not strata's to remove")
}
