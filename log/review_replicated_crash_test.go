package log_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// brokerDirs are the directories of the three brokers replicatedCrashEveryStep makes.
var brokerDirs = []string{"/data", "/data/broker.1", "/data/broker.2"}

// replicatedCrashEveryStep is crashEveryStep for a store of three brokers: "base"
// (2 partitions, 3 replicas, MinInsyncReplicas 2, 5 records acknowledged in
// partition 0), then change, stopped after each of its filesystem operations in
// turn, then a power loss. The reopened store must hold every acknowledged record
// of "base" (if change did not delete it), give every partition a leader, keep
// each replica's directory on exactly its brokers, and leave a user's directories
// alone.
func replicatedCrashEveryStep(t *testing.T, change func(context.Context, *log.Store) error, check func(t *testing.T, s *log.Store, fsys vfs.FS)) int {
	for limit := int64(0); ; limit++ {
		base := vfs.NewCrashable()
		var faults vfs.Switch
		fsys := vfs.NewFaulty(base, faults.Inject)
		require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
		require.NoError(t, log.InitBrokers(fsys, "/data", map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
		s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
		require.NoError(t, err)
		createTopic(t, s, "base", log.TopicConfig{Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
		produce(t, s, "base", 0, 5)
		for _, dir := range brokerDirs {
			// A user's directory, named like a partition: never strata's to remove.
			require.NoError(t, vfs.MkdirAllSync(base, dir+"/backup-1"))
			require.NoError(t, vfs.WriteFileAtomic(base, dir+"/backup-1/precious", []byte("keep")))
		}
		stop := &stopAfter{limit: limit}
		faults.Set(stop.inject)
		// The process dies at the limit: a change waiting on its followers, whose
		// disks then fail every write, waits until ctx ends.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err = change(ctx, s)
		cancel()
		finished := err == nil && stop.count.Load() <= limit
		after := base.Crash(vfs.DropUnsynced, limit)
		s.Close() // stops the abandoned store's goroutines: its filesystem fails every operation
		t.Run(fmt.Sprintf("stop-after-%d", limit), func(t *testing.T) {
			reopened, err := log.Open("/data", &log.Options{FS: after, RetentionCheckInterval: -1})
			require.NoError(t, err)
			defer reopened.Close()
			if d, err := reopened.DescribeTopic("base"); err == nil {
				require.Equal(t, int64(5), d.Partitions[0].EndOffset, "base intact")
				require.Len(t, consumeValues(t, reopened, "base", 0), 5)
			} else {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
			}
			check(t, reopened, after)
			requireReplicaDirsMatchTopics(t, reopened, after)
			for _, dir := range brokerDirs {
				data, err := vfs.ReadFile(after, dir+"/backup-1/precious")
				require.NoError(t, err)
				require.Equal(t, "keep", string(data))
			}
		})
		if finished {
			return int(limit) + 1
		}
	}
}

// requireReplicaDirsMatchTopics checks that every partition of every topic has a
// leader, and that each broker directory holds a directory for exactly the
// partitions with a replica on it (besides backup-1, and empty directories that a
// change interrupted before the controller recorded its partitions).
func requireReplicaDirsMatchTopics(t *testing.T, s *log.Store, fsys vfs.FS) {
	t.Helper()
	topics, err := s.ListTopics()
	require.NoError(t, err)
	topics = append(topics, log.OffsetsTopic)
	want := map[string][]string{}
	for _, name := range topics {
		d, err := s.DescribeTopic(name)
		if name == log.OffsetsTopic && err != nil {
			continue
		}
		require.NoError(t, err)
		for _, p := range d.Partitions {
			require.NotEqual(t, replica.NoBroker, p.Leader, "%s-%d has a leader", name, p.Partition)
			for _, b := range p.Replicas {
				want[brokerDirs[b]] = append(want[brokerDirs[b]], tp(name, p.Partition).String())
			}
		}
	}
	for _, dir := range brokerDirs {
		entries, err := fsys.ReadDir(dir)
		require.NoError(t, err)
		var got []string
		for _, name := range entries {
			info, err := fsys.Stat(filepath.Join(dir, name))
			require.NoError(t, err)
			if !info.IsDir() || name == "backup-1" || strings.HasPrefix(name, "broker.") {
				continue
			}
			if inner, _ := fsys.ReadDir(filepath.Join(dir, name)); len(inner) == 0 && !slices.Contains(want[dir], name) {
				continue // made before the controller recorded it: taken over by the next change
			}
			got = append(got, name)
		}
		slices.Sort(got)
		slices.Sort(want[dir])
		require.Equal(t, want[dir], got, "partition directories of %s", dir)
	}
}

func TestReplicatedCrashDuringCreateTopic(t *testing.T) {
	steps := replicatedCrashEveryStep(t,
		func(ctx context.Context, s *log.Store) error {
			return s.CreateTopic(ctx, "fresh", log.TopicConfig{Partitions: 3, ReplicationFactor: 2})
		},
		func(t *testing.T, s *log.Store, _ vfs.FS) {
			requireTopic(t, s, "base")
			d, err := s.DescribeTopic("fresh")
			if err != nil {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
				return
			}
			require.Len(t, d.Partitions, 3)
		})
	t.Logf("%d crash points", steps)
}

func TestReplicatedCrashDuringDeleteTopic(t *testing.T) {
	steps := replicatedCrashEveryStep(t,
		func(ctx context.Context, s *log.Store) error { return s.DeleteTopic(ctx, "base") },
		func(t *testing.T, s *log.Store, _ vfs.FS) {})
	t.Logf("%d crash points", steps)
}

func TestReplicatedCrashDuringAddPartitions(t *testing.T) {
	steps := replicatedCrashEveryStep(t,
		func(ctx context.Context, s *log.Store) error { return s.AddPartitions(ctx, "base", 5) },
		func(t *testing.T, s *log.Store, _ vfs.FS) {
			requireTopic(t, s, "base")
			require.Contains(t, []int{2, 5}, len(describe(t, s, "base").Partitions))
		})
	t.Logf("%d crash points", steps)
}

func TestReplicatedCrashDuringFirstGroupCommit(t *testing.T) {
	steps := replicatedCrashEveryStep(t,
		func(ctx context.Context, s *log.Store) error {
			return s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("base", 0): {Offset: 3}})
		},
		func(t *testing.T, s *log.Store, _ vfs.FS) {
			offsets, err := s.CommittedOffsets(context.Background(), "g")
			require.NoError(t, err)
			if o, ok := offsets[tp("base", 0)]; ok {
				require.Equal(t, int64(3), o.Offset)
			}
		})
	t.Logf("%d crash points", steps)
}

// restartFailedBrokers starts again the brokers whose disk failed (an injected
// fault, gone since), and waits for every replica to be in sync.
func restartFailedBrokers(t *testing.T, s *log.Store) {
	t.Helper()
	brokers, err := s.Brokers()
	require.NoError(t, err)
	for _, b := range brokers {
		if !b.Online {
			require.NoError(t, s.StartBroker(b.ID))
		}
	}
	require.NoError(t, s.AwaitInSync(testContext(t)))
}

// replicatedFailEveryStep runs change on a store of three brokers holding "base"
// (as replicatedCrashEveryStep), failing its n-th filesystem operation alone, for
// every n: the store goes on. After the change, whether it failed or not, "base"
// takes records, and after a reopen every acknowledged record is there, every
// partition is led and the replicas' directories are those of the topics.
func replicatedFailEveryStep(t *testing.T, change func(context.Context, *log.Store) error, check func(t *testing.T, s *log.Store, changed bool)) int {
	for n := int64(1); ; n++ {
		var faults vfs.Switch
		fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
		require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
		require.NoError(t, log.InitBrokers(fsys, "/data", map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
		s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
		require.NoError(t, err)
		createTopic(t, s, "base", log.TopicConfig{Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
		produce(t, s, "base", 0, 5)
		var count atomic.Int64
		faults.Set(func(op vfs.Op, path string) *vfs.Fault {
			if count.Add(1) == n {
				return &vfs.Fault{}
			}
			return nil
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = change(ctx, s)
		cancel()
		faults.Set(nil)
		injected := count.Load() >= n
		t.Run(fmt.Sprintf("fail-op-%d", n), func(t *testing.T) {
			defer s.Close()
			restartFailedBrokers(t, s)
			if d, err := s.DescribeTopic("base"); err == nil {
				produceFrom(t, s, "base", 0, 5, 1)
				require.Equal(t, int64(6), describe(t, s, "base").Partitions[0].EndOffset, "base intact: %+v", d)
			}
			check(t, s, err == nil)
			require.NoError(t, s.Close())
			reopened, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
			require.NoError(t, err)
			defer reopened.Close()
			require.NoError(t, reopened.AwaitInSync(testContext(t)))
			if d, err := reopened.DescribeTopic("base"); err == nil {
				require.Equal(t, int64(6), d.Partitions[0].EndOffset, "base intact")
			}
			check(t, reopened, err == nil)
			requireReplicaDirsMatchTopics(t, reopened, fsys)
		})
		if !injected {
			return int(n)
		}
	}
}

func TestReplicatedFailureDuringCreateTopic(t *testing.T) {
	steps := replicatedFailEveryStep(t,
		func(ctx context.Context, s *log.Store) error {
			return s.CreateTopic(ctx, "fresh", log.TopicConfig{Partitions: 3, ReplicationFactor: 2})
		},
		func(t *testing.T, s *log.Store, changed bool) {
			d, err := s.DescribeTopic("fresh")
			if err != nil {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
				createTopic(t, s, "fresh", log.TopicConfig{Partitions: 3, ReplicationFactor: 2})
				d = describe(t, s, "fresh")
			}
			require.Len(t, d.Partitions, 3)
			produce(t, s, "fresh", 2, 1)
		})
	t.Logf("%d failure points", steps)
}

func TestReplicatedFailureDuringDeleteTopic(t *testing.T) {
	steps := replicatedFailEveryStep(t,
		func(ctx context.Context, s *log.Store) error { return s.DeleteTopic(ctx, "base") },
		func(t *testing.T, s *log.Store, changed bool) {
			if _, err := s.DescribeTopic("base"); err != nil {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
				createTopic(t, s, "base", log.TopicConfig{Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
				produce(t, s, "base", 0, 6)
			}
		})
	t.Logf("%d failure points", steps)
}

func TestReplicatedFailureDuringAddPartitions(t *testing.T) {
	steps := replicatedFailEveryStep(t,
		func(ctx context.Context, s *log.Store) error { return s.AddPartitions(ctx, "base", 5) },
		func(t *testing.T, s *log.Store, changed bool) {
			n := len(describe(t, s, "base").Partitions)
			require.Contains(t, []int{2, 5}, n)
			produce(t, s, "base", int32(n-1), 1)
		})
	t.Logf("%d failure points", steps)
}

// DeleteTopic while broker 2's disk is away, stopped after each filesystem
// operation, then a power loss, then the disk back: the topic is whole or gone,
// and if gone, its replica on broker 2 goes too at that Open.
func TestReplicatedCrashDuringDeleteTopicWithABrokerAway(t *testing.T) {
	for limit := int64(0); ; limit++ {
		base := vfs.NewCrashable()
		require.NoError(t, vfs.MkdirAllSync(base, "/data"))
		require.NoError(t, log.InitBrokers(base, "/data", map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
		opts := &log.Options{FS: base, RetentionCheckInterval: -1}
		s, err := log.Open("/data", opts)
		require.NoError(t, err)
		createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
		produce(t, s, "orders", 0, 5)
		require.NoError(t, s.Close())
		require.NoError(t, base.Rename("/data/broker.2", "/away"))
		require.NoError(t, base.SyncDir("/data"))
		require.NoError(t, base.SyncDir("/"))
		var faults vfs.Switch
		opts.FS = vfs.NewFaulty(base, faults.Inject)
		s, err = log.Open("/data", opts)
		require.NoError(t, err)
		stop := &stopAfter{limit: limit}
		faults.Set(stop.inject)
		err = s.DeleteTopic(context.Background(), "orders")
		finished := err == nil && stop.count.Load() <= limit
		after := base.Crash(vfs.DropUnsynced, limit)
		s.Close()
		t.Run(fmt.Sprintf("stop-after-%d", limit), func(t *testing.T) {
			require.NoError(t, after.Rename("/away", "/data/broker.2"))
			reopened, err := log.Open("/data", &log.Options{FS: after, RetentionCheckInterval: -1})
			require.NoError(t, err)
			defer reopened.Close()
			require.NoError(t, reopened.AwaitInSync(testContext(t)))
			if d, err := reopened.DescribeTopic("orders"); err == nil {
				require.Equal(t, int64(5), d.Partitions[0].EndOffset)
			} else {
				require.ErrorIs(t, err, log.ErrUnknownTopic)
			}
			requireReplicaDirsMatchTopics(t, reopened, after)
		})
		if finished {
			t.Logf("%d crash points", limit+1)
			return
		}
	}
}
