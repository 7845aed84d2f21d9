package log_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// failTopicsJSON returns an Injector failing the writes of topics.json in the
// given broker directories.
func failTopicsJSON(dirs ...string) vfs.Injector {
	return func(op vfs.Op, path string) *vfs.Fault {
		if op != vfs.OpOpen || !strings.HasSuffix(path, "/topics.json.tmp") {
			return nil
		}
		for _, dir := range dirs {
			if path == dir+"/topics.json.tmp" {
				return &vfs.Fault{}
			}
		}
		return nil
	}
}

// openFaultyBrokers makes a store of three brokers on a faulty filesystem and
// opens it.
func openFaultyBrokers(t *testing.T) (*log.Store, vfs.FS, *vfs.Switch) {
	t.Helper()
	faults := &vfs.Switch{}
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
	require.NoError(t, log.InitBrokers(fsys, "/data", map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
	return openStore(t, fsys, &log.Options{RetentionCheckInterval: -1}), fsys, faults
}

// A DeleteTopic whose topics.json reached only a minority of the brokers fails,
// "not deleted", and the topic goes on taking records. Its copy in that minority
// must not win at the next Open: the topic would be deleted there, with the
// records acknowledged after the failure.
func TestReplicatedFailedDeleteTopicDoesNotWinLater(t *testing.T) {
	s, fsys, faults := openFaultyBrokers(t)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 3)
	faults.Set(failTopicsJSON("/data/broker.1", "/data/broker.2"))
	err := s.DeleteTopic(context.Background(), "orders")
	require.Error(t, err)
	faults.Set(nil)
	require.Equal(t, int64(3), describe(t, s, "orders").Partitions[0].EndOffset, "not deleted")
	produceFrom(t, s, "orders", 0, 3, 4) // acknowledged
	require.NoError(t, s.Close())

	s2 := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	d, err := s2.DescribeTopic("orders")
	require.NoError(t, err, "the topic whose deletion failed lives on")
	require.Equal(t, int64(7), d.Partitions[0].EndOffset)
}

// Two topic changes that each reached a different minority... the first failed,
// the second succeeded: the second must win at Open, never the failed one because
// its copy sits in the first directory read.
func TestReplicatedFailedCreateTopicDoesNotShadowTheNextChange(t *testing.T) {
	s, fsys, faults := openFaultyBrokers(t)
	faults.Set(failTopicsJSON("/data/broker.1", "/data/broker.2"))
	require.Error(t, s.CreateTopic(context.Background(), "failed", log.TopicConfig{ReplicationFactor: 3}))
	faults.Set(failTopicsJSON("/data"))
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	faults.Set(nil)
	produce(t, s, "orders", 0, 3) // acknowledged
	require.NoError(t, s.Close())

	s2 := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	d, err := s2.DescribeTopic("orders")
	require.NoError(t, err, "the topic created lives on")
	require.Equal(t, int64(3), d.Partitions[0].EndOffset)
	_, err = s2.DescribeTopic("failed")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
}

// The same failed DeleteTopic, its directories failing once, then a power loss:
// the deletion rewrote the current topics at once, so the store that opens after
// the crash holds the topic and its acknowledged records.
func TestReplicatedFailedDeleteTopicDoesNotWinAfterACrash(t *testing.T) {
	base := vfs.NewCrashable()
	var faults vfs.Switch
	fsys := vfs.NewFaulty(base, faults.Inject)
	require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
	require.NoError(t, log.InitBrokers(fsys, "/data", map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
	s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 3)
	var mu sync.Mutex
	failed := map[string]bool{}
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		mu.Lock()
		defer mu.Unlock()
		if f := failTopicsJSON("/data/broker.1", "/data/broker.2")(op, path); f != nil && !failed[path] {
			failed[path] = true // once
			return f
		}
		return nil
	})
	require.Error(t, s.DeleteTopic(context.Background(), "orders"))
	faults.Set(nil)
	produceFrom(t, s, "orders", 0, 3, 4) // acknowledged

	after := base.Crash(vfs.DropUnsynced, 1)
	s2 := openStore(t, after, &log.Options{RetentionCheckInterval: -1})
	d, err := s2.DescribeTopic("orders")
	require.NoError(t, err, "the topic whose deletion failed lives on")
	require.Equal(t, int64(7), d.Partitions[0].EndOffset)
}

// A DeleteTopic whose removal of a replica's directory fails still deletes the
// topic; the directory it left, marked deleted, does not keep a topic of the name
// from being made again, as in a one-broker store (TestDeleteTopicWithFailingRemoval).
func TestReplicatedDeleteTopicWithFailingRemoval(t *testing.T) {
	s, fsys, faults := openFaultyBrokers(t)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 3)
	faults.Set(vfs.FailOp(vfs.OpRemoveAll, nil))
	require.NoError(t, s.DeleteTopic(context.Background(), "orders"))
	faults.Set(nil)
	_, err := fsys.Stat("/data/broker.1/orders-0")
	require.NoError(t, err, "left behind, marked")
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	require.Equal(t, int64(0), describe(t, s, "orders").Partitions[0].EndOffset, "a new topic starts empty")
	produce(t, s, "orders", 0, 1)
}
