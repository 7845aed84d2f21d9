package log_test

// recovery-points.checkpoint: the store records how far each partition was fsynced,
// so that after a power loss the newest segment cut at a batch boundary below that
// point is an offline partition, not a silently shorter log; and never a false alarm
// from the store's own bookkeeping (a topic deleted and made again, a truncation).

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// manualRecoveryPoints are store options that record recovery points only when the
// test says so (Store.Sync, Close).
func manualRecoveryPoints(fsys vfs.FS) *log.Options {
	return &log.Options{FS: fsys, RetentionCheckInterval: -1, RecoveryPointInterval: -1}
}

// cutNewestLog cuts the newest .log of the partition directory dir at the start of
// its last batch, and returns the first offset cut away.
func cutNewestLog(t *testing.T, fsys vfs.FS, dir string) int64 {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	require.NoError(t, err)
	newest := ""
	for _, name := range names {
		if _, suffix, ok := segment.ParseFileName(name); ok && suffix == segment.LogSuffix {
			newest = name // sorted: the last is the newest
		}
	}
	logPath := path.Join(dir, newest)
	data := readStoreFile(fsys, logPath)
	starts := batchStarts(data)
	require.GreaterOrEqual(t, len(starts), 3, "two batches at least")
	last := starts[len(starts)-2]
	f, err := fsys.OpenFile(logPath, os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(last))
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	return segmentEnd(data[:last], 0)
}

// requireIntactAfterPowerLoss loses the power under s (what it did not fsync is
// gone), closes it, and opens what is left: no partition may be offline, and
// partition 0 of topic must end at end.
func requireIntactAfterPowerLoss(t *testing.T, fsys *vfs.CrashableFS, s *log.Store, topic string, end int64, what ...any) {
	t.Helper()
	image := fsys.Crash(vfs.DropUnsynced, 0)
	require.NoError(t, s.Close(), what...)
	s, err := log.Open("/data", manualRecoveryPoints(image))
	require.NoError(t, err, what...)
	defer s.Close()
	require.Empty(t, s.OfflinePartitions(), what...)
	require.Equal(t, end, describe(t, s, topic).Partitions[0].EndOffset, what...)
}

// TestRecoveryPointsDetectCutNewestSegment: records produced and recorded by
// Store.Sync, then a power loss, then the newest segment cut exactly at a batch
// boundary: the partition is offline, naming the missing offsets, rather than open
// and shorter. It stays offline across a clean Close and Open (the offline
// partition keeps its recorded point), and RepairPartition covers the missing
// offsets, so that none is given to another record.
func TestRecoveryPointsDetectCutNewestSegment(t *testing.T) {
	ctx := testContext(t)
	fsys := vfs.NewCrashable()
	s, err := log.Open("/data", manualRecoveryPoints(fsys))
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	produceInCalls(t, s, "orders", 0, 20, 4)
	produceInCalls(t, s, "orders", 1, 6, 3)
	require.NoError(t, s.Sync(ctx))
	image := fsys.Crash(vfs.DropUnsynced, 0) // the power goes
	require.NoError(t, s.Close())

	recorded, err := log.RecordedRecoveryPoints(image, "/data")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"orders-0": 20, "orders-1": 6}, recorded)
	cut := cutNewestLog(t, image, "/data/orders-0")
	require.Equal(t, int64(16), cut)

	s, err = log.Open("/data", manualRecoveryPoints(image))
	require.NoError(t, err)
	offline := s.OfflinePartitions()
	require.Len(t, offline, 1)
	require.Equal(t, tp("orders", 0), offline[0].TopicPartition)
	require.ErrorIs(t, offline[0], log.ErrPartitionOffline)
	require.ErrorIs(t, offline[0], log.ErrCorrupt)
	require.Contains(t, offline[0].Error(), "the log ends at offset 16, but every offset below 20 was fsynced")
	err = s.Produce(ctx, &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: []byte("x")})
	require.ErrorIs(t, err, log.ErrPartitionOffline)
	require.Equal(t, int64(6), describe(t, s, "orders").Partitions[1].EndOffset, "the other partition serves")

	require.NoError(t, s.Close())
	recorded, err = log.RecordedRecoveryPoints(image, "/data")
	require.NoError(t, err)
	require.Equal(t, int64(20), recorded["orders-0"], "an offline partition keeps its point")
	s, err = log.Open("/data", manualRecoveryPoints(image))
	require.NoError(t, err)
	defer s.Close()
	require.Len(t, s.OfflinePartitions(), 1, "still offline after a clean Close and Open")

	report, err := s.RepairPartition(ctx, tp("orders", 0), nil)
	require.NoError(t, err)
	require.Equal(t, []partition.OffsetRange{{From: 16, To: 20}}, report.Lost)
	require.Empty(t, s.OfflinePartitions())
	r := &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: []byte("after the repair")}
	require.NoError(t, s.Produce(ctx, r))
	require.Equal(t, int64(20), r.Offset, "no offset is given out twice")
}

// TestRecoveryPointsCoverSyncNone: Store.Sync fsyncs what a SyncNone topic holds and
// records it: a power loss after it costs none of those records.
func TestRecoveryPointsCoverSyncNone(t *testing.T) {
	ctx := testContext(t)
	fsys := vfs.NewCrashable()
	s, err := log.Open("/data", manualRecoveryPoints(fsys))
	require.NoError(t, err)
	createTopic(t, s, "lazy", log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncNone}})
	produceInCalls(t, s, "lazy", 0, 9, 3)
	require.NoError(t, s.Sync(ctx))
	image := fsys.Crash(vfs.DropUnsynced, 0)
	require.NoError(t, s.Close())
	recorded, err := log.RecordedRecoveryPoints(image, "/data")
	require.NoError(t, err)
	require.Equal(t, int64(9), recorded["lazy-0"])
	s, err = log.Open("/data", manualRecoveryPoints(image))
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, int64(9), describe(t, s, "lazy").Partitions[0].EndOffset)
}

// TestRecoveryPointsInBackground: the store records the points every
// RecoveryPointInterval, and rewrites the file only when a point changed.
func TestRecoveryPointsInBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var writes atomic.Int64
		fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, name string) *vfs.Fault {
			if op == vfs.OpRename && strings.HasSuffix(name, "recovery-points.checkpoint.tmp") {
				writes.Add(1)
			}
			return nil
		})
		s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1, RecoveryPointInterval: time.Minute})
		require.NoError(t, err)
		defer s.Close()
		createTopic(t, s, "orders", log.TopicConfig{})
		produce(t, s, "orders", 0, 5)
		time.Sleep(59 * time.Second)
		synctest.Wait()
		require.Zero(t, writes.Load(), "nothing before the interval")
		time.Sleep(time.Second)
		synctest.Wait()
		recorded, err := log.RecordedRecoveryPoints(fsys, "/data")
		require.NoError(t, err)
		require.Equal(t, map[string]int64{"orders-0": 5}, recorded)
		require.Equal(t, int64(1), writes.Load())
		time.Sleep(time.Minute)
		synctest.Wait()
		require.Equal(t, int64(1), writes.Load(), "nothing changed: no write")
	})
}

// TestRecoveryPointsDeletedTopicMadeAgain: a topic deleted and made again under its
// name never inherits the old partitions' points (a false alarm after the next power
// loss), whatever point of DeleteTopic the process died at.
func TestRecoveryPointsDeletedTopicMadeAgain(t *testing.T) {
	for limit := int64(0); ; limit++ {
		base := vfs.NewCrashable()
		var faults vfs.Switch
		s, err := log.Open("/data", manualRecoveryPoints(vfs.NewFaulty(base, faults.Inject)))
		require.NoError(t, err)
		createTopic(t, s, "orders", log.TopicConfig{})
		produceInCalls(t, s, "orders", 0, 10, 2)
		require.NoError(t, s.Sync(context.Background()))
		stop := &stopAfter{limit: limit}
		faults.Set(stop.inject)
		err = s.DeleteTopic(context.Background(), "orders") // the process dies
		finished := err == nil && stop.count.Load() <= limit
		after := base.Crash(vfs.DropUnsynced, limit)

		s, err = log.Open("/data", manualRecoveryPoints(after))
		require.NoError(t, err, "stop after %d", limit)
		want := int64(10) // the deletion did not commit
		if _, err := s.DescribeTopic("orders"); errors.Is(err, log.ErrUnknownTopic) {
			createTopic(t, s, "orders", log.TopicConfig{})
			produce(t, s, "orders", 0, 2)
			want = 2
		}
		requireIntactAfterPowerLoss(t, after, s, "orders", want, "stop after %d", limit)
		if finished {
			t.Logf("%d crash points", limit+1)
			return
		}
	}
}

// TestRecoveryPointsRewriteFailsAtDelete: DeleteTopic that cannot rewrite the file
// says so; CreateTopic of the name then rewrites it first.
func TestRecoveryPointsRewriteFailsAtDelete(t *testing.T) {
	ctx := testContext(t)
	base := vfs.NewCrashable()
	var faults vfs.Switch
	s, err := log.Open("/data", manualRecoveryPoints(vfs.NewFaulty(base, faults.Inject)))
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produceInCalls(t, s, "orders", 0, 10, 2)
	require.NoError(t, s.Sync(ctx))
	faults.Set(vfs.Match("recovery-points", vfs.FailOp(vfs.OpOpen, syscall.ENOSPC)))
	err = s.DeleteTopic(ctx, "orders")
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Contains(t, err.Error(), "deleted, but its partitions' recovery points are still recorded")
	err = s.CreateTopic(ctx, "orders", log.TopicConfig{})
	require.ErrorIs(t, err, syscall.ENOSPC, "the old point cannot be removed: no partition is made under it")
	faults.Set(nil)
	createTopic(t, s, "orders", log.TopicConfig{})
	recorded, err := log.RecordedRecoveryPoints(base, "/data")
	require.NoError(t, err)
	require.NotContains(t, recorded, "orders-0")
	produce(t, s, "orders", 0, 2)
	requireIntactAfterPowerLoss(t, base, s, "orders", 2)
}

// TestRecoveryPointsUnlistedIgnored: points of partitions topics.json does not list
// (a deletion that committed just before a crash) are ignored and dropped.
func TestRecoveryPointsUnlistedIgnored(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := log.Open("/data", manualRecoveryPoints(fsys))
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produce(t, s, "orders", 0, 3)
	require.NoError(t, s.Close())
	stale := "strata-recovery-points 1\nghost-0 50\norders-0 3\n"
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/recovery-points.checkpoint", withCRCLine(stale)))

	s, err = log.Open("/data", manualRecoveryPoints(fsys))
	require.NoError(t, err)
	defer s.Close()
	recorded, err := log.RecordedRecoveryPoints(fsys, "/data")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"orders-0": 3}, recorded, "Open drops the unlisted point")
	createTopic(t, s, "ghost", log.TopicConfig{})
	require.Empty(t, s.OfflinePartitions())
}

// TestRecoveryPointsDamagedFile: the file is a hint: damaged, the store opens (the
// damage logged at Error) and writes it anew; Scrub reports it.
func TestRecoveryPointsDamagedFile(t *testing.T) {
	for name, damage := range map[string]func(vfs.FS){
		"flipped": func(fsys vfs.FS) {
			data := readStoreFile(fsys, "/data/recovery-points.checkpoint")
			data[len("strata-recovery-points 1\norders-0 ")] ^= 1
			writeStoreFile(fsys, "/data/recovery-points.checkpoint", data)
		},
		"bad line": func(fsys vfs.FS) {
			writeStoreFile(fsys, "/data/recovery-points.checkpoint", withCRCLine("strata-recovery-points 1\norders-0 -3\n"))
		},
		"newer version": func(fsys vfs.FS) {
			writeStoreFile(fsys, "/data/recovery-points.checkpoint", withCRCLine("strata-recovery-points 2\norders-0 3\n"))
		},
	} {
		fsys := vfs.NewMem()
		s, err := log.Open("/data", manualRecoveryPoints(fsys))
		require.NoError(t, err)
		createTopic(t, s, "orders", log.TopicConfig{})
		produce(t, s, "orders", 0, 3)
		require.NoError(t, s.Close())
		damage(fsys)

		report, err := log.Scrub("/data", manualRecoveryPoints(fsys))
		require.NoError(t, err, name)
		require.Len(t, report.Problems, 1, name)
		require.ErrorIs(t, report.Problems[0], log.ErrCorrupt, name)
		require.False(t, report.Healthy(), name)

		var logs logBuffer
		opts := manualRecoveryPoints(fsys)
		opts.Logger = logs.logger()
		s, err = log.Open("/data", opts)
		require.NoError(t, err, name)
		require.Contains(t, logs.String(), `level=ERROR msg="recovery points unreadable`, name)
		require.Empty(t, s.OfflinePartitions(), name)
		recorded, err := log.RecordedRecoveryPoints(fsys, "/data")
		require.NoError(t, err, "%s: written anew at Open", name)
		require.Equal(t, map[string]int64{"orders-0": 3}, recorded, name)
		require.NoError(t, s.Close(), name)
	}
}

// withCRCLine returns body with the last line of strata's checkpoint files.
func withCRCLine(body string) []byte {
	return fmt.Appendf(nil, "%scrc32c %08x\n", body, crc32.Checksum([]byte(body), crc32.MakeTable(crc32.Castagnoli)))
}

// TestRecoveryPointsTruncation: the store lowers a partition's point before a
// truncation removes records below it, so that the power lost after the truncation
// is no false alarm.
func TestRecoveryPointsTruncation(t *testing.T) {
	fsys := vfs.NewCrashable()
	s, err := log.Open("/data", manualRecoveryPoints(fsys))
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produceInCalls(t, s, "orders", 0, 10, 2)
	require.NoError(t, s.Sync(context.Background()))
	end, err := log.TruncatePartition(s, tp("orders", 0), 5) // the batch of 4 and 5 goes whole
	require.NoError(t, err)
	require.Equal(t, int64(4), end)
	recorded, err := log.RecordedRecoveryPoints(fsys, "/data")
	require.NoError(t, err)
	require.Equal(t, int64(4), recorded["orders-0"])
	requireIntactAfterPowerLoss(t, fsys, s, "orders", 4)
}

func TestRecoveryPointIntervalOption(t *testing.T) {
	_, err := log.Open("/data", &log.Options{FS: vfs.NewMem(), RecoveryPointInterval: time.Microsecond})
	var configErr *log.ConfigError
	require.True(t, errors.As(err, &configErr))
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	require.Contains(t, configErr.Problems[0], "RecoveryPointInterval")
}
