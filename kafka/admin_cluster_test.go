package kafka

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAdminClusterLogDirsAndElectionsSeveralBrokers serves a store of three
// brokers: DescribeCluster lists them (a stopped one only as fenced, when asked),
// DescribeLogDirs gives each broker's directory with its replicas' sizes (a
// stopped broker's directory: KAFKA_STORAGE_ERROR), and ElectLeaders moves a
// partition's leadership back to its preferred replica once that one is back in
// sync, through kadm.
func TestAdminClusterLogDirsAndElectionsSeveralBrokers(t *testing.T) {
	dir := t.TempDir()
	if err := log.InitBrokers(vfs.OS, dir, map[replica.BrokerID]string{0: "", 1: "", 2: ""}); err != nil {
		t.Fatal(err)
	}
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := serveStore(t, store, &Options{ClusterID: "test-cluster"}, nil)
	adm := kadm.NewClient(ts.client(t))
	c := ts.dial(t)
	ctx := context.Background()
	if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := store.Produce(ctx, &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := store.DescribeTopic("orders")
	if err != nil {
		t.Fatal(err)
	}
	stopped := before.Partitions[0].Leader
	if stopped != before.Partitions[0].Replicas[0] {
		t.Fatalf("partition 0 is led by %d, not its preferred replica %v", stopped, before.Partitions[0].Replicas)
	}
	other := int32(-1) // a partition led by its preferred replica on another broker
	for _, p := range before.Partitions {
		if p.Leader != stopped && p.Leader == p.Replicas[0] {
			other = p.Partition
		}
	}
	if other < 0 {
		t.Fatalf("no partition led by another preferred replica: %+v", before.Partitions)
	}
	if err := store.StopBroker(stopped); err != nil {
		t.Fatal(err)
	}

	cluster := kmsg.NewPtrDescribeClusterRequest()
	cluster.Version = 2
	cluster.IncludeClusterAuthorizedOperations = true
	described := c.roundTrip(cluster).(*kmsg.DescribeClusterResponse)
	if described.ErrorCode != 0 || described.ClusterID != "test-cluster" || len(described.Brokers) != 2 {
		t.Fatalf("DescribeCluster without the fenced: %+v", described)
	}
	for _, op := range []kmsg.ACLOperation{kmsg.ACLOperationDescribe, kmsg.ACLOperationAlter, kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite} {
		if described.ClusterAuthorizedOperations&(1<<op) == 0 {
			t.Errorf("cluster authorized operations %b lack %v", described.ClusterAuthorizedOperations, op)
		}
	}
	if described.ClusterAuthorizedOperations&(1<<kmsg.ACLOperationRead) != 0 {
		t.Errorf("cluster authorized operations %b include READ, which the cluster does not have", described.ClusterAuthorizedOperations)
	}
	cluster.IncludeFencedBrokers = true
	described = c.roundTrip(cluster).(*kmsg.DescribeClusterResponse)
	fenced := slices.IndexFunc(described.Brokers, func(b kmsg.DescribeClusterResponseBroker) bool { return b.IsFenced })
	if len(described.Brokers) != 3 || fenced < 0 || described.Brokers[fenced].NodeID != int32(stopped) {
		t.Fatalf("DescribeCluster with the fenced: %+v, want broker %d fenced", described.Brokers, stopped)
	}

	logDirs := kmsg.NewPtrDescribeLogDirsRequest()
	logDirs.Version = 4
	logDirs.Topics = []kmsg.DescribeLogDirsRequestTopic{{Topic: "orders", Partitions: []int32{0}}, {Topic: "missing", Partitions: []int32{0}}}
	dirs := c.roundTrip(logDirs).(*kmsg.DescribeLogDirsResponse)
	brokers, err := store.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs.Dirs) != 3 {
		t.Fatalf("DescribeLogDirs: %d directories, want 3", len(dirs.Dirs))
	}
	for i, d := range dirs.Dirs {
		if d.Dir != brokers[i].Dir {
			t.Errorf("directory %d: %q, want broker %d's %q", i, d.Dir, brokers[i].ID, brokers[i].Dir)
		}
		if brokers[i].ID == stopped {
			if d.ErrorCode != kerr.KafkaStorageError.Code {
				t.Errorf("stopped broker's directory: error %d, want KAFKA_STORAGE_ERROR", d.ErrorCode)
			}
			continue
		}
		if d.ErrorCode != 0 || len(d.Topics) != 1 || d.Topics[0].Topic != "orders" || len(d.Topics[0].Partitions) != 1 {
			t.Fatalf("directory %q: %+v, want partition 0 of orders only", d.Dir, d)
		}
		if p := d.Topics[0].Partitions[0]; p.Partition != 0 || p.Size <= 0 || p.OffsetLag != 0 || p.IsFuture {
			t.Errorf("directory %q partition 0: %+v, want a size, no lag, not future", d.Dir, p)
		}
	}

	// The preferred leader of partition 0 is stopped; partition `other` needs no
	// election.
	elected, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"orders": {0: {}, other: {}, 9: {}}})
	if err != nil {
		t.Fatal(err)
	}
	for partition, want := range map[int32]*kerr.Error{0: kerr.PreferredLeaderNotAvailable, other: kerr.ElectionNotNeeded, 9: kerr.UnknownTopicOrPartition} {
		if got := elected["orders"][partition].Err; !errors.Is(got, want) {
			t.Errorf("preferred election of partition %d: %v, want %v", partition, got, want)
		}
	}
	// Every partition (a null list): only partition 0 needed an election.
	everyPartition, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, nil)
	if err != nil || len(everyPartition) != 1 || len(everyPartition["orders"]) != 1 ||
		!errors.Is(everyPartition["orders"][0].Err, kerr.PreferredLeaderNotAvailable) {
		t.Errorf("preferred election of every partition with broker %d stopped: %v %+v, want partition 0 only, PREFERRED_LEADER_NOT_AVAILABLE", stopped, err, everyPartition)
	}
	unclean, err := adm.ElectLeaders(ctx, kadm.ElectLiveReplica, kadm.TopicsSet{"orders": {0: {}}})
	if err != nil || !errors.Is(unclean["orders"][0].Err, kerr.ElectionNotNeeded) {
		t.Errorf("unclean election of a led partition: %v %+v, want ELECTION_NOT_NEEDED", err, unclean)
	}

	if err := store.StartBroker(stopped); err != nil {
		t.Fatal(err)
	}
	if err := store.AwaitInSync(ctx); err != nil {
		t.Fatal(err)
	}
	elected, err = adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"orders": {0: {}}})
	if err != nil || elected["orders"][0].Err != nil {
		t.Fatalf("preferred election once back in sync: %v %+v", err, elected)
	}
	after, err := store.DescribeTopic("orders")
	if err != nil {
		t.Fatal(err)
	}
	if after.Partitions[0].Leader != stopped {
		t.Errorf("partition 0 led by %d after the election, want its preferred replica %d", after.Partitions[0].Leader, stopped)
	}
	// Every partition: those whose election is not needed are left out.
	all, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, nil)
	if err != nil || len(all) != 0 {
		t.Errorf("election of every partition, all led by their preferred replicas: %v %+v, want no results", err, all)
	}
}

// TestAdminLogDirsThroughKadm describes a one-broker store's directory through
// kadm.
func TestAdminLogDirsThroughKadm(t *testing.T) {
	ts := startServer(t, nil, nil)
	adm := kadm.NewClient(ts.client(t))
	ctx := context.Background()
	if err := ts.store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.Produce(ctx, &log.Record{Topic: "orders", Partition: 1, ExplicitPartition: true, Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	dirs, err := adm.DescribeBrokerLogDirs(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := dirs.Error(); err != nil {
		t.Fatal(err)
	}
	brokers, err := ts.store.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	d, ok := dirs[brokers[0].Dir]
	if !ok || len(dirs) != 1 {
		t.Fatalf("directories %+v, want only %q", dirs, brokers[0].Dir)
	}
	orders := d.Topics["orders"]
	if len(orders) != 2 || orders[1].Size <= 0 || orders[1].Size <= orders[0].Size || d.TotalBytes != -1 {
		t.Errorf("orders in %q: %+v (total bytes %d), want two partitions, the second larger, total -1", d.Dir, orders, d.TotalBytes)
	}
}

// TestAdminAclsThroughKadm checks that the ACL APIs answer as a Kafka broker
// without an authorizer: SECURITY_DISABLED, nothing created or deleted.
func TestAdminAclsThroughKadm(t *testing.T) {
	ts := startServer(t, nil, nil)
	adm := kadm.NewClient(ts.client(t))
	ctx := context.Background()
	acl := kadm.NewACLs().Topics("orders").Allow("User:alice").AllowHosts("*").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	created, err := adm.CreateACLs(ctx, acl)
	if err != nil || len(created) != 1 || !errors.Is(created[0].Err, kerr.SecurityDisabled) {
		t.Errorf("CreateACLs: %v %+v, want SECURITY_DISABLED", err, created)
	}
	described, err := adm.DescribeACLs(ctx, acl)
	if !errors.Is(err, kerr.SecurityDisabled) && (err != nil || len(described) != 1 || !errors.Is(described[0].Err, kerr.SecurityDisabled)) {
		t.Errorf("DescribeACLs: %v %+v, want SECURITY_DISABLED", err, described)
	}
	deleted, err := adm.DeleteACLs(ctx, acl)
	if err != nil || len(deleted) != 1 || !errors.Is(deleted[0].Err, kerr.SecurityDisabled) {
		t.Errorf("DeleteACLs: %v %+v, want SECURITY_DISABLED", err, deleted)
	}
}
