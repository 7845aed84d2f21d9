package log_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// stopAfter is an Injector that lets limit operations succeed and fails every later
// one: the process "dies" after its limit-th filesystem operation, and nothing it
// does afterwards reaches the disk.
type stopAfter struct {
	count atomic.Int64
	limit int64
}

func (s *stopAfter) inject(vfs.Op, string) *vfs.Fault {
	if s.count.Add(1) > s.limit {
		return &vfs.Fault{}
	}
	return nil
}

// crashEveryStep runs change on a store holding topic "base" (2 partitions, 5
// records in partition 0), stopping the process after each of its filesystem
// operations in turn, then crashes the machine (unsynced data lost), reopens, checks
// that "base" is intact or (if change deleted it) gone and that the directories
// match the topics, and hands the store to check. It returns the number of crash points tried.
func crashEveryStep(t *testing.T, change func(*log.Store) error, check func(t *testing.T, s *log.Store, fsys vfs.FS)) int {
	for limit := int64(0); ; limit++ {
		base := vfs.NewCrashable()
		var faults vfs.Switch
		fsys := vfs.NewFaulty(base, faults.Inject)
		s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
		require.NoError(t, err)
		createTopic(t, s, "base", log.TopicConfig{Partitions: 2})
		produce(t, s, "base", 0, 5)
		// A user's directory, named like a partition: never strata's to remove.
		require.NoError(t, vfs.MkdirAllSync(base, "/data/backup-1"))
		require.NoError(t, vfs.WriteFileAtomic(base, "/data/backup-1/precious", []byte("keep")))
		stop := &stopAfter{limit: limit}
		faults.Set(stop.inject)
		err = change(s) // the store is abandoned: its process died
		finished := err == nil && stop.count.Load() <= limit
		after := base.Crash(vfs.DropUnsynced, limit)
		t.Run(fmt.Sprintf("stop-after-%d", limit), func(t *testing.T) {
			reopened, err := log.Open("/data", &log.Options{FS: after, RetentionCheckInterval: -1})
			require.NoError(t, err)
			defer reopened.Close()
			if d, err := reopened.DescribeTopic("base"); err == nil {
				require.Equal(t, int64(5), d.Partitions[0].EndOffset, "base intact")
			} else {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
			}
			check(t, reopened, after)
			require.Empty(t, reopened.OfflinePartitions())
			requireDirectoriesMatchTopics(t, reopened, after, "backup-1")
			data, err := vfs.ReadFile(after, "/data/backup-1/precious")
			require.NoError(t, err)
			require.Equal(t, "keep", string(data))
		})
		if finished {
			return int(limit) + 1
		}
	}
}

// requireDirectoriesMatchTopics checks that the data directory holds exactly the
// partition directories of the store's topics, and the others named (besides the
// store's own files: recovery-points.checkpoint exists once a record was durable).
func requireDirectoriesMatchTopics(t *testing.T, s *log.Store, fsys vfs.FS, others ...string) {
	t.Helper()
	want := append([]string{".lock", "topics.json"}, others...)
	if _, err := fsys.Stat("/data/recovery-points.checkpoint"); err == nil {
		want = append(want, "recovery-points.checkpoint")
	}
	topics, err := s.ListTopics()
	require.NoError(t, err)
	for _, name := range topics {
		for _, p := range describe(t, s, name).Partitions {
			want = append(want, tp(name, p.Partition).String())
		}
	}
	slices.Sort(want)
	entries, err := fsys.ReadDir("/data")
	require.NoError(t, err)
	require.Equal(t, want, entries)
}

func requireTopic(t *testing.T, s *log.Store, name string) {
	t.Helper()
	_, err := s.DescribeTopic(name)
	require.NoError(t, err)
}

func TestCrashDuringCreateTopic(t *testing.T) {
	steps := crashEveryStep(t,
		func(s *log.Store) error {
			return s.CreateTopic(context.Background(), "fresh", log.TopicConfig{Partitions: 3})
		},
		func(t *testing.T, s *log.Store, _ vfs.FS) {
			requireTopic(t, s, "base")
			d, err := s.DescribeTopic("fresh")
			if err != nil {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
				return
			}
			require.Len(t, d.Partitions, 3)
			for _, p := range d.Partitions {
				require.Equal(t, int64(0), p.EndOffset)
			}
		})
	t.Logf("%d crash points", steps)
}

func TestCrashDuringDeleteTopic(t *testing.T) {
	steps := crashEveryStep(t,
		func(s *log.Store) error { return s.DeleteTopic(context.Background(), "base") },
		func(t *testing.T, s *log.Store, _ vfs.FS) {}) // base intact or gone: checked by crashEveryStep
	t.Logf("%d crash points", steps)
}

func TestCrashDuringAddPartitions(t *testing.T) {
	steps := crashEveryStep(t,
		func(s *log.Store) error { return s.AddPartitions(context.Background(), "base", 5) },
		func(t *testing.T, s *log.Store, _ vfs.FS) {
			requireTopic(t, s, "base")
			n := len(describe(t, s, "base").Partitions)
			require.Contains(t, []int{2, 5}, n)
		})
	t.Logf("%d crash points", steps)
}

// Every acknowledged record survives a power loss, whatever the unsynced tail holds.
func TestAcknowledgedRecordsSurviveCrash(t *testing.T) {
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix, vfs.TearGarbage, vfs.TearZeros} {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
			require.NoError(t, err)
			createTopic(t, s, "t", log.TopicConfig{Partitions: 3, SegmentBytes: 2048})
			for i := range 30 {
				produceFrom(t, s, "t", int32(i%3), i/3*5, 5)
			}
			seed := int64(mode)*1000 + 7
			t.Logf("crash seed %d", seed)
			after := fsys.Crash(mode, seed)
			reopened := openStore(t, after, &log.Options{RetentionCheckInterval: -1})
			for _, p := range describe(t, reopened, "t").Partitions {
				require.Equal(t, int64(50), p.EndOffset)
			}
		})
	}
}

// A DeleteTopic whose file removal fails still deletes the topic; the leftover
// directories never leak into a new topic of the same name, nor survive Open.
func TestDeleteTopicWithFailingRemoval(t *testing.T) {
	var faults vfs.Switch
	mem := vfs.NewMem()
	fsys := vfs.NewFaulty(mem, faults.Inject)
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	ctx := context.Background()
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	produce(t, s, "t", 1, 4)

	faults.Set(vfs.FailOp(vfs.OpRemoveAll, nil))
	err = s.DeleteTopic(ctx, "t")
	require.ErrorIs(t, err, vfs.ErrInjected)
	faults.Set(nil)
	_, err = s.DescribeTopic("t")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
	entries, err := mem.ReadDir("/data")
	require.NoError(t, err)
	require.Len(t, slices.DeleteFunc(entries, func(name string) bool {
		return !strings.HasPrefix(name, "t-") || !strings.HasSuffix(name, "-delete")
	}), 2, "left behind, marked for removal: %v", entries)

	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	require.Equal(t, int64(0), describe(t, s, "t").Partitions[1].EndOffset, "a new topic starts empty")
	require.NoError(t, s.DeleteTopic(ctx, "t"))
	require.NoError(t, s.Close())

	// Leftovers of a failed removal are removed by Open.
	faults.Set(nil)
	s = openStore(t, fsys, nil)
	createTopic(t, s, "u", log.TopicConfig{})
	faults.Set(vfs.FailOp(vfs.OpRemoveAll, nil))
	require.Error(t, s.DeleteTopic(ctx, "u"))
	faults.Set(nil)
	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	requireDirectoriesMatchTopics(t, s, mem)
}
