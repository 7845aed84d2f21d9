package log_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

// openBrokers makes a store of n brokers in /data of fsys (their directories the
// defaults) and opens it.
func openBrokers(t testing.TB, fsys vfs.FS, n int) *log.Store {
	t.Helper()
	brokers := map[replica.BrokerID]string{}
	for i := range n {
		brokers[replica.BrokerID(i)] = ""
	}
	require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
	require.NoError(t, log.InitBrokers(fsys, "/data", brokers))
	return openStore(t, fsys, nil)
}

// consumeValues reads partition p of topic from the start to its end.
func consumeValues(t testing.TB, s *log.Store, topic string, p int32) []string {
	t.Helper()
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp(topic, p)))
	d := describe(t, s, topic)
	var out []string
	for int64(len(out)) < d.Partitions[p].EndOffset {
		for _, r := range pollN(t, c, 1) {
			out = append(out, string(r.Value))
		}
	}
	return out
}

func TestReplicatedStoreProducesToEveryReplica(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3, MinInsyncReplicas: 2})
	d := describe(t, s, "orders")
	leaders := map[replica.BrokerID]bool{}
	for _, p := range d.Partitions {
		require.Len(t, p.Replicas, 3)
		require.ElementsMatch(t, p.Replicas, p.ISR)
		require.Equal(t, p.Replicas[0], p.Leader, "the preferred replica leads")
		leaders[p.Leader] = true
	}
	require.Len(t, leaders, 3, "leadership spread over the brokers")
	produce(t, s, "orders", 1, 10)
	require.Equal(t, int64(10), describe(t, s, "orders").Partitions[1].EndOffset)
	require.Len(t, consumeValues(t, s, "orders", 1), 10)

	brokers, err := s.Brokers()
	require.NoError(t, err)
	require.Len(t, brokers, 3)
	for _, b := range brokers {
		require.True(t, b.Online)
		require.Equal(t, 1, b.Leads)
		require.Equal(t, 2, b.Follows)
	}
	require.NoError(t, s.Close())

	// Reopened, every record is there: the high watermark covers them.
	s2 := openStore(t, fsys, nil)
	require.Equal(t, int64(10), describe(t, s2, "orders").Partitions[1].EndOffset)
	require.Equal(t, consumeValues(t, s2, "orders", 1)[9], string(value("orders", 9)))
}

func TestReplicatedStoreFailsOverAndCatchesUp(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 5)
	leader := describe(t, s, "orders").Partitions[0].Leader
	require.NoError(t, s.StopBroker(leader))
	p := describe(t, s, "orders").Partitions[0]
	require.NotEqual(t, leader, p.Leader)
	require.Len(t, p.ISR, 2)
	produceFrom(t, s, "orders", 0, 5, 5)
	require.Len(t, consumeValues(t, s, "orders", 0), 10)

	require.NoError(t, s.StartBroker(leader))
	n, err := s.ElectPreferredLeaders()
	require.NoError(t, err)
	require.LessOrEqual(t, n, 1)
	require.ErrorIs(t, s.StopBroker(7), log.ErrInvalidArgument)
}

func TestReplicatedStoreAcksAllNeedsMinInsyncReplicas(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 3})
	require.NoError(t, s.StopBroker(2))
	err := s.Produce(context.Background(), &log.Record{Topic: "orders", Value: []byte("x")})
	require.ErrorIs(t, err, replica.ErrNotEnoughReplicas)
}

func TestReplicatedStoreRefusesMoreReplicasThanBrokers(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 2)
	err := s.CreateTopic(context.Background(), "t", log.TopicConfig{ReplicationFactor: 3})
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	one := openStore(t, vfs.NewMem(), nil)
	err = one.CreateTopic(context.Background(), "t", log.TopicConfig{ReplicationFactor: 2})
	require.ErrorIs(t, err, log.ErrInvalidConfig)
}

func TestReplicatedStoreGroupsCommitThroughReplicas(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 3)
	require.NoError(t, s.CommitGroupOffsets(context.Background(), "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 2}}))
	d := describe(t, s, log.OffsetsTopic)
	require.Len(t, d.Partitions[0].Replicas, 3)
	require.Len(t, d.Partitions[0].ISR, 3)
	require.NoError(t, s.Close())
	s2 := openStore(t, fsys, nil)
	offsets, err := s2.CommittedOffsets(context.Background(), "g", tp("orders", 0))
	require.NoError(t, err)
	require.Equal(t, int64(2), offsets[tp("orders", 0)].Offset)
}

func TestReplicatedStoreDeletesATopicEverywhere(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 2})
	produce(t, s, "orders", 0, 3)
	require.NoError(t, s.DeleteTopic(context.Background(), "orders"))
	for _, dir := range []string{"/data/orders-0", "/data/broker.1/orders-0", "/data/broker.2/orders-1", "/data/orders-1", "/data/broker.1/orders-1", "/data/broker.2/orders-0"} {
		_, err := fsys.Stat(dir)
		require.Error(t, err, dir)
	}
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 2})
	require.Equal(t, int64(0), describe(t, s, "orders").Partitions[0].EndOffset)
}

func TestReplicatedStoreConsumerFollowsTheLeader(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 5)
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp("orders", 0)))
	require.Len(t, pollN(t, c, 5), 5)
	require.NoError(t, s.StopBroker(describe(t, s, "orders").Partitions[0].Leader))
	produceFrom(t, s, "orders", 0, 5, 3)
	got := pollN(t, c, 3)
	require.Len(t, got, 3)
	require.Equal(t, int64(5), got[0].Offset)
	require.Equal(t, string(value("orders", 7)), string(got[2].Value))
}

func TestReplicatedStoreRebuildsACorruptReplica(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 20)
	require.NoError(t, s.Close())
	// Damage the checkpoint of broker 1's replica: it no longer opens.
	path := "/data/broker.1/orders-0/partition.checkpoint"
	data, err := vfs.ReadFile(fsys, path)
	require.NoError(t, err)
	data[len(data)-3] ^= 1
	require.NoError(t, vfs.WriteFileAtomic(fsys, path, data))

	s2 := openStore(t, fsys, nil)
	brokers, err := s2.Brokers()
	require.NoError(t, err)
	require.True(t, brokers[1].Online, "the broker stays online: only the replica is rebuilt")
	names, err := fsys.ReadDir("/data/broker.1")
	require.NoError(t, err)
	aside := 0
	for _, name := range names {
		if strings.HasSuffix(name, "-damaged") {
			aside++
		}
	}
	require.Equal(t, 1, aside, "the damaged copy is kept aside: %v", names)
	require.Len(t, consumeValues(t, s2, "orders", 0), 20)
	// The rebuilt replica copies its leader and rejoins the ISR.
	require.NoError(t, s2.AwaitInSync(testContext(t)))
	require.Len(t, describe(t, s2, "orders").Partitions[0].ISR, 3)
}

func TestReplicatedStoreReassignsAPartition(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 1})
	produce(t, s, "orders", 0, 5)
	require.Equal(t, []replica.BrokerID{0}, describe(t, s, "orders").Partitions[0].Replicas)
	require.NoError(t, s.ReassignPartition(tp("orders", 0), []replica.BrokerID{1, 2}))
	require.NoError(t, s.Close())
	// The reassignment is durable: it goes on (and completes) after a reopen.
	s2 := openStore(t, fsys, nil)
	require.NoError(t, s2.AwaitInSync(testContext(t)))
	require.Equal(t, []replica.BrokerID{1, 2}, describe(t, s2, "orders").Partitions[0].Replicas)
	produceFrom(t, s2, "orders", 0, 5, 3)
	require.Len(t, consumeValues(t, s2, "orders", 0), 8)
	require.ErrorIs(t, s2.ReassignPartition(tp("orders", 0), []replica.BrokerID{9}), log.ErrInvalidArgument)
}

func TestAddBrokerThenReassignOntoIt(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 2)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 2})
	produce(t, s, "orders", 0, 4)
	_, err := log.AddBroker(fsys, "/data", "")
	require.ErrorIs(t, err, log.ErrLocked, "the store is open")
	require.NoError(t, s.Close())
	id, err := log.AddBroker(fsys, "/data", "/disk9")
	require.NoError(t, err)
	require.Equal(t, replica.BrokerID(2), id)
	s2 := openStore(t, fsys, nil)
	brokers, err := s2.Brokers()
	require.NoError(t, err)
	require.Len(t, brokers, 3)
	require.Equal(t, "/disk9", brokers[2].Dir)
	require.True(t, brokers[2].Online)
	require.NoError(t, s2.ReassignPartition(tp("orders", 0), []replica.BrokerID{2, 1}))
	require.Len(t, consumeValues(t, s2, "orders", 0), 4)
	_, err = log.AddBroker(vfs.NewMem(), "/", "")
	require.ErrorIs(t, err, log.ErrInvalidArgument)
}

func TestReplicatedStoreReadsAroundADamagedLeader(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 20)
	leader := describe(t, s, "orders").Partitions[0].Leader
	dir := "/data/orders-0"
	if leader != 0 {
		dir = fmt.Sprintf("/data/broker.%d/orders-0", leader)
	}
	// Flip a byte inside the first batch's records: its CRC fails.
	f, err := fsys.OpenFile(dir+"/00000000000000000000.log", os.O_RDWR, 0)
	require.NoError(t, err)
	b := make([]byte, 1)
	_, err = f.ReadAt(b, 70)
	require.NoError(t, err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b, 70)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	got := consumeValues(t, s, "orders", 0)
	require.Len(t, got, 20, "served by another in-sync replica")
	require.Equal(t, string(value("orders", 0)), got[0])
	// The damaged replica is set aside and rebuilt; it rejoins the ISR.
	require.NoError(t, s.AwaitInSync(testContext(t)))
	names, err := fsys.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "orders-0.") && strings.HasSuffix(n, "-damaged") }), "%v", names)
	require.NotEqual(t, leader, describe(t, s, "orders").Partitions[0].Leader)
}

// TestReplicatedStoreLeaderDamagedBelowItsRecoveryPoint: after a power loss, a bit
// flipped in the last batch of the leader's newest segment, a batch it had fsynced
// and acknowledged. Cut like a torn tail, the leader would lead on without it and its
// followers truncate it away; the broker's recovery point makes it a corruption: the
// leader's copy is rebuilt from a follower, and nothing acknowledged is lost.
func TestReplicatedStoreLeaderDamagedBelowItsRecoveryPoint(t *testing.T) {
	crash := vfs.NewCrashable()
	s := openBrokers(t, crash, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	for i := range 5 {
		produceFrom(t, s, "orders", 0, 4*i, 4)
	}
	require.NoError(t, s.Sync(testContext(t)))
	leader := describe(t, s, "orders").Partitions[0].Leader
	image := crash.Crash(vfs.DropUnsynced, 1)
	dir := "/data/orders-0"
	if leader != 0 {
		dir = fmt.Sprintf("/data/broker.%d/orders-0", leader)
	}
	segment := dir + "/00000000000000000000.log"
	info, err := image.Stat(segment)
	require.NoError(t, err)
	f, err := image.OpenFile(segment, os.O_RDWR, 0)
	require.NoError(t, err)
	b := []byte{0}
	at := info.Size() - 3 // inside the last batch's records
	_, err = f.ReadAt(b, at)
	require.NoError(t, err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b, at)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())

	s2 := openStore(t, image, nil)
	got := consumeValues(t, s2, "orders", 0)
	require.Len(t, got, 20)
	require.Equal(t, string(value("orders", 19)), got[19])
}

// TestReplicatedStoreKeepsItsHighWatermarkAcrossARestart: what readers saw stays
// readable after a restart that finds the in-sync replicas below
// min.insync.replicas (a broker's disk gone), where the high watermark cannot move.
func TestReplicatedStoreKeepsItsHighWatermarkAcrossARestart(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 3})
	produce(t, s, "orders", 0, 10)
	require.Equal(t, replica.BrokerID(0), describe(t, s, "orders").Partitions[0].Leader)
	require.Len(t, consumeValues(t, s, "orders", 0), 10)
	require.NoError(t, s.Close())
	require.NoError(t, fsys.RemoveAll("/data/broker.2"))

	s2 := openStore(t, fsys, nil)
	p := describe(t, s2, "orders").Partitions[0]
	require.Equal(t, []replica.BrokerID{0, 1}, p.ISR)
	require.Equal(t, int64(10), p.EndOffset, "the high watermark the leader reached before")
	require.Len(t, consumeValues(t, s2, "orders", 0), 10)
}

// TestReplicatedStoreOpensWithoutItsRootDisk: the root's disk (broker 0's
// directory) lost, the store opens from another broker's directory, with its topics,
// its controller state and its committed offsets.
func TestReplicatedStoreOpensWithoutItsRootDisk(t *testing.T) {
	fsys := vfs.NewMem()
	for _, d := range []string{"/data", "/disk1", "/disk2"} {
		require.NoError(t, vfs.MkdirAllSync(fsys, d))
	}
	require.NoError(t, log.InitBrokers(fsys, "/data", map[replica.BrokerID]string{0: "", 1: "/disk1", 2: "/disk2"}))
	s := openStore(t, fsys, nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 5)
	produce(t, s, "orders", 1, 7)
	require.NoError(t, s.CommitGroupOffsets(context.Background(), "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 1): {Offset: 4}}))
	require.NoError(t, s.Close())
	require.NoError(t, fsys.RemoveAll("/data"))

	s2, err := log.Open("/disk1", &log.Options{FS: fsys})
	require.NoError(t, err)
	defer s2.Close()
	brokers, err := s2.Brokers()
	require.NoError(t, err)
	require.False(t, brokers[0].Online)
	require.Len(t, consumeValues(t, s2, "orders", 0), 5)
	require.Len(t, consumeValues(t, s2, "orders", 1), 7)
	offsets, err := s2.CommittedOffsets(context.Background(), "g", tp("orders", 1))
	require.NoError(t, err)
	require.Equal(t, int64(4), offsets[tp("orders", 1)].Offset)
	produce(t, s2, "orders", 0, 1)
}

// TestReplicatedStoreConsumerLeavesAFailedLeader: the leader's disk fails for
// writes; it stays open (what it holds is readable) but leads no more, and a
// consumer at its end reads on from the new leader.
func TestReplicatedStoreConsumerLeavesAFailedLeader(t *testing.T) {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 3)
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp("orders", 0)))
	require.Len(t, pollN(t, c, 3), 3)
	// Broker 0 (the leader) can write nothing more: the produce fails on it, the
	// broker goes offline, and the produce is retried on the new leader, as a Kafka
	// producer retries NOT_LEADER.
	faults.Set(vfs.Match("/data/orders-0/", vfs.FailOp(vfs.OpWrite, syscall.EIO)))
	require.NoError(t, s.Produce(context.Background(), &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: []byte("x")}))
	require.NotEqual(t, replica.BrokerID(0), describe(t, s, "orders").Partitions[0].Leader)
	got := pollN(t, c, 1)
	require.Equal(t, "x", string(got[len(got)-1].Value), "read on from the new leader")
}
