package log_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// copyTree copies the directory from to to, within fsys.
func copyTree(t *testing.T, fsys vfs.FS, from, to string) {
	t.Helper()
	require.NoError(t, vfs.MkdirAllSync(fsys, to))
	names, err := fsys.ReadDir(from)
	require.NoError(t, err)
	for _, name := range names {
		info, err := fsys.Lstat(filepath.Join(from, name))
		require.NoError(t, err)
		if info.IsDir() {
			copyTree(t, fsys, filepath.Join(from, name), filepath.Join(to, name))
			continue
		}
		data, err := vfs.ReadFile(fsys, filepath.Join(from, name))
		require.NoError(t, err)
		require.NoError(t, vfs.WriteFileAtomic(fsys, filepath.Join(to, name), data))
	}
}

// A disk of another store mounted where one of this store's brokers had its
// directory is foreign: that broker stays offline, and nothing of the other
// store's is read nor written. Its controller state, of a greater sequence, must
// not become this store's: the store would lose its partitions' leaders, ISRs and
// epochs, assign them anew, and delete, with their directories, the other store's
// partitions, here a user's directory named like one of them.
func TestReplicatedForeignBrokerDirIsNeitherReadNorWritten(t *testing.T) {
	fsys := vfs.NewMem()
	brokers := map[replica.BrokerID]string{0: "", 1: "", 2: ""}
	for _, root := range []string{"/data", "/other"} {
		require.NoError(t, vfs.MkdirAllSync(fsys, root))
		require.NoError(t, log.InitBrokers(fsys, root, brokers))
	}
	other, err := log.Open("/other", &log.Options{FS: fsys, RetentionCheckInterval: -1})
	require.NoError(t, err)
	for _, name := range []string{"payments", "invoices", "refunds"} {
		createTopic(t, other, name, log.TopicConfig{ReplicationFactor: 3})
	}
	require.NoError(t, other.Close())

	s := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 5)
	require.NoError(t, s.StopBroker(0)) // a leader epoch above the new partition's
	require.NoError(t, s.Close())

	// The other store's broker 2 disk takes the place of this store's.
	require.NoError(t, fsys.RemoveAll("/data/broker.2"))
	copyTree(t, fsys, "/other/broker.2", "/data/broker.2")
	foreignState, err := vfs.ReadFile(fsys, "/data/broker.2/controller-state.json")
	require.NoError(t, err)
	// A user's directory, named like a partition of the other store.
	require.NoError(t, vfs.MkdirAllSync(fsys, "/data/payments-0"))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/payments-0/precious", []byte("keep")))

	s2 := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	brokerInfo, err := s2.Brokers()
	require.NoError(t, err)
	require.ErrorIs(t, brokerInfo[2].Offline, log.ErrBrokerDirForeign)
	require.NoError(t, s2.AwaitInSync(testContext(t))) // broker 0, stopped before, catches up
	d := describe(t, s2, "orders")
	require.Equal(t, int64(5), d.Partitions[0].EndOffset)
	require.Positive(t, d.Partitions[0].LeaderEpoch, "the store's own controller state")
	produceFrom(t, s2, "orders", 0, 5, 1)
	require.NoError(t, s2.CreateTopic(context.Background(), "more", log.TopicConfig{ReplicationFactor: 2}))

	data, err := vfs.ReadFile(fsys, "/data/payments-0/precious")
	require.NoError(t, err, "a user's directory is never strata's to remove")
	require.Equal(t, "keep", string(data))
	after, err := vfs.ReadFile(fsys, "/data/broker.2/controller-state.json")
	require.NoError(t, err)
	require.Equal(t, string(foreignState), string(after), "nothing is written into another store's directory")
}

// A broker stopped while the store runs, whose directory is then replaced by
// another store's, is not started on it: StartBroker would open the other store's
// partition of the same name as the broker's replica, and, its leader epochs
// starting from 0 as the replica's did, keep the other store's records below its
// leader's end of epoch 0 and join the ISR with them.
func TestReplicatedStartBrokerRefusesAForeignDir(t *testing.T) {
	fsys := vfs.NewMem()
	brokers := map[replica.BrokerID]string{0: "", 1: "", 2: ""}
	for _, root := range []string{"/data", "/other"} {
		require.NoError(t, vfs.MkdirAllSync(fsys, root))
		require.NoError(t, log.InitBrokers(fsys, root, brokers))
	}
	other, err := log.Open("/other", &log.Options{FS: fsys, RetentionCheckInterval: -1})
	require.NoError(t, err)
	createTopic(t, other, "orders", log.TopicConfig{ReplicationFactor: 3})
	for range 10 {
		produceValue(t, other, "orders", "other")
	}
	require.NoError(t, other.Close())

	s := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	for range 3 {
		produceValue(t, s, "orders", "mine")
	}
	require.NoError(t, s.StopBroker(2))
	require.NoError(t, fsys.RemoveAll("/data/broker.2"))
	copyTree(t, fsys, "/other/broker.2", "/data/broker.2")

	err = s.StartBroker(2)
	require.ErrorIs(t, err, log.ErrBrokerDirForeign)
	data, err := vfs.ReadFile(fsys, "/other/broker.2/orders-0/00000000000000000000.log")
	require.NoError(t, err)
	after, err := vfs.ReadFile(fsys, "/data/broker.2/orders-0/00000000000000000000.log")
	require.NoError(t, err)
	require.Equal(t, data, after, "the other store's partition is left alone")
	require.Equal(t, []string{"mine", "mine", "mine"}, consumeValues(t, s, "orders", 0))
}
