package kafka

import (
	"context"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// findCoordinatorAt asks c for the coordinator of key (of keyType) at version v
// and returns its node, host, port and error code.
func findCoordinatorAt(c *rawConn, v int16, keyType int8, key string) (int32, string, int32, int16) {
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.Version, req.CoordinatorType = v, keyType
	if v < 4 {
		req.CoordinatorKey = key
	} else {
		req.CoordinatorKeys = []string{key}
	}
	resp := c.roundTrip(req).(*kmsg.FindCoordinatorResponse)
	if v < 4 {
		return resp.NodeID, resp.Host, resp.Port, resp.ErrorCode
	}
	co := resp.Coordinators[0]
	return co.NodeID, co.Host, co.Port, co.ErrorCode
}

// TestBrokersCoordinatorIsTheLeaderOfItsPartition serves a store of three
// brokers on three listeners: FindCoordinator, at every version and from every
// broker, answers the leader of partition 0 of __consumer_offsets (groups) and
// of __transaction_state (transactional ids) at its address; group and
// transaction requests sent to another broker answer NOT_COORDINATOR (ListGroups
// and ListTransactions there: empty), the coordinator answers them; an
// idempotent producer's InitProducerId is answered by any broker. When the
// coordinator's broker stops, the new leader of the partition is the
// coordinator and answers for the same group. DescribeLogDirs describes the
// broker's own directory only.
func TestBrokersCoordinatorIsTheLeaderOfItsPartition(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, nil)
	ctx := context.Background()
	if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 1, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	conns := map[replica.BrokerID]*rawConn{}
	for id := range bs.addrs {
		conns[id] = bs.dial(t, id)
	}
	// The first FindCoordinator of each kind creates the coordinator's topic.
	findCoordinatorAt(conns[0], 6, coordinatorTypeGroup, "g")
	findCoordinatorAt(conns[0], 6, coordinatorTypeTransaction, "tx")

	checkFind := func(keyType int8, key, topic string) replica.BrokerID {
		t.Helper()
		leader := describePartition(t, store, topic, 0).Leader
		wantHost, wantPort := hostPort(t, bs.addrs[leader])
		first := int16(0)
		if keyType == coordinatorTypeTransaction {
			first = 1 // v0 has no key type: groups only
		}
		for id, c := range conns {
			for v := first; v <= 6; v++ {
				node, host, port, code := findCoordinatorAt(c, v, keyType, key)
				if code != 0 || node != int32(leader) || host != wantHost || port != wantPort {
					t.Errorf("FindCoordinator v%d of %q from broker %d: node %d at %s:%d, error %d; want %s-0's leader %d at %s:%d",
						v, key, id, node, host, port, code, topic, leader, wantHost, wantPort)
				}
			}
		}
		return leader
	}
	groupCoordinator := checkFind(coordinatorTypeGroup, "g", log.OffsetsTopic)
	txnCoordinator := checkFind(coordinatorTypeTransaction, "tx", log.TransactionStateTopic)

	join := func(c *rawConn) int16 {
		return c.roundTrip(joinGroupRequest(4, "g", "", "orders")).(*kmsg.JoinGroupResponse).ErrorCode
	}
	offsetFetch := func(c *rawConn) int16 {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version, req.Group = 5, "g"
		return c.roundTrip(req).(*kmsg.OffsetFetchResponse).ErrorCode
	}
	listGroups := func(c *rawConn) (int16, int) {
		resp := c.roundTrip(kmsg.NewPtrListGroupsRequest()).(*kmsg.ListGroupsResponse)
		return resp.ErrorCode, len(resp.Groups)
	}
	initProducer := func(c *rawConn, transactionalID *string) int16 {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.Version, req.TransactionalID, req.TransactionTimeoutMillis = 4, transactionalID, 60_000
		req.ProducerID, req.ProducerEpoch = -1, -1
		return c.roundTrip(req).(*kmsg.InitProducerIDResponse).ErrorCode
	}
	listTransactions := func(c *rawConn) (int16, int) {
		resp := c.roundTrip(kmsg.NewPtrListTransactionsRequest()).(*kmsg.ListTransactionsResponse)
		return resp.ErrorCode, len(resp.TransactionStates)
	}
	checkGroups := func(coordinator replica.BrokerID) {
		t.Helper()
		for id, c := range conns {
			if id == coordinator {
				continue
			}
			if code := join(c); code != kerr.NotCoordinator.Code {
				t.Errorf("JoinGroup to broker %d (coordinator %d): error %d, want NOT_COORDINATOR", id, coordinator, code)
			}
			if code := offsetFetch(c); code != kerr.NotCoordinator.Code {
				t.Errorf("OffsetFetch to broker %d (coordinator %d): error %d, want NOT_COORDINATOR", id, coordinator, code)
			}
			if code, n := listGroups(c); code != 0 || n != 0 {
				t.Errorf("ListGroups to broker %d (coordinator %d): error %d, %d groups; want none, no error", id, coordinator, code, n)
			}
		}
		c := conns[coordinator]
		if code := join(c); code != 0 && code != kerr.MemberIDRequired.Code {
			t.Errorf("JoinGroup to the coordinator %d: error %d", coordinator, code)
		}
		if code := offsetFetch(c); code != 0 {
			t.Errorf("OffsetFetch to the coordinator %d: error %d", coordinator, code)
		}
		if code, n := listGroups(c); code != 0 || n != 1 {
			t.Errorf("ListGroups to the coordinator %d: error %d, %d groups; want g", coordinator, code, n)
		}
	}
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Version, commit.Group, commit.Generation = 8, "g", -1
	commit.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "orders", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 0}}}}
	if code := conns[groupCoordinator].roundTrip(commit).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("OffsetCommit to the coordinator: error %d", code)
	}
	checkGroups(groupCoordinator)

	for id, c := range conns {
		if code := initProducer(c, nil); code != 0 {
			t.Errorf("InitProducerId of an idempotent producer to broker %d: error %d", id, code)
		}
		want := kerr.NotCoordinator.Code
		if id == txnCoordinator {
			want = 0
		}
		if code := initProducer(c, kmsg.StringPtr("tx")); code != want {
			t.Errorf("InitProducerId of tx to broker %d (coordinator %d): error %d, want %d", id, txnCoordinator, code, want)
		}
	}
	for id, c := range conns {
		want := 0
		if id == txnCoordinator {
			want = 1
		}
		if code, n := listTransactions(c); code != 0 || n != want {
			t.Errorf("ListTransactions to broker %d (coordinator %d): error %d, %d transactions; want %d", id, txnCoordinator, code, n, want)
		}
	}

	brokers, err := store.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	for id, c := range conns {
		req := kmsg.NewPtrDescribeLogDirsRequest()
		req.Version = 4
		dirs := c.roundTrip(req).(*kmsg.DescribeLogDirsResponse).Dirs
		if len(dirs) != 1 || dirs[0].Dir != brokers[id].Dir || dirs[0].ErrorCode != 0 {
			t.Errorf("DescribeLogDirs to broker %d: %+v, want its own directory %q only", id, dirs, brokers[id].Dir)
		}
	}

	if err := store.StopBroker(groupCoordinator); err != nil {
		t.Fatal(err)
	}
	delete(conns, groupCoordinator)
	next := checkFind(coordinatorTypeGroup, "g", log.OffsetsTopic)
	if next == groupCoordinator {
		t.Fatalf("broker %d still coordinates once stopped", next)
	}
	checkGroups(next)
}
