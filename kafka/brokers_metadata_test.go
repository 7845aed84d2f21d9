package kafka

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestBrokersMetadataEachAtItsAddress serves a store of three brokers on three
// listeners: Metadata, at every version and from every broker, lists each
// broker at its own listener's address (or its Options.BrokerAddrs one) and
// each partition's leader, replicas, ISR and leader epoch as the store has
// them; once a broker is stopped it is left out, its replicas are offline
// replicas, and DescribeCluster lists it only as fenced.
func TestBrokersMetadataEachAtItsAddress(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, &Options{BrokerAddrs: map[replica.BrokerID]string{2: "kafka-2.example:9095"}})
	ctx := context.Background()
	if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	wantAddr := func(id int32) (string, int32) {
		if id == 2 {
			return "kafka-2.example", 9095
		}
		return hostPort(t, bs.addrs[replica.BrokerID(id)])
	}
	checkPartitions := func(from replica.BrokerID, v int16, resp *kmsg.MetadataResponse, offline []int32) {
		t.Helper()
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) != 3 {
			t.Fatalf("from broker %d, v%d: topics %+v", from, v, resp.Topics)
		}
		for _, p := range resp.Topics[0].Partitions {
			want := describePartition(t, store, "orders", p.Partition)
			if v < 7 {
				p.LeaderEpoch = want.LeaderEpoch // not in the response before v7
			}
			if p.ErrorCode != 0 || p.Leader != int32(want.Leader) || p.LeaderEpoch != want.LeaderEpoch ||
				!slices.Equal(p.Replicas, brokerIDs(want.Replicas)) || !slices.Equal(p.ISR, brokerIDs(want.ISR)) {
				t.Errorf("from broker %d, v%d: partition %d: %+v, want the store's %+v", from, v, p.Partition, p, want)
			}
			if v >= 5 && !slices.Equal(p.OfflineReplicas, offline) {
				t.Errorf("from broker %d, v%d: partition %d: offline replicas %v, want %v", from, v, p.Partition, p.OfflineReplicas, offline)
			}
		}
	}
	for id := range bs.addrs {
		c := bs.dial(t, id)
		for v := int16(0); v <= 13; v++ {
			resp := metadataOf(c, v, "orders")
			if len(resp.Brokers) != 3 {
				t.Fatalf("from broker %d, v%d: brokers %+v, want 3", id, v, resp.Brokers)
			}
			for i, b := range resp.Brokers {
				host, port := wantAddr(int32(i))
				if b.NodeID != int32(i) || b.Host != host || b.Port != port {
					t.Errorf("from broker %d, v%d: broker %+v, want node %d at %s:%d", id, v, b, i, host, port)
				}
			}
			if v >= 1 && resp.ControllerID != 0 {
				t.Errorf("from broker %d, v%d: controller %d, want 0 (the first online broker)", id, v, resp.ControllerID)
			}
			checkPartitions(id, v, resp, []int32{})
		}
	}

	if err := store.StopBroker(0); err != nil {
		t.Fatal(err)
	}
	c := bs.dial(t, 1)
	resp := metadataOf(c, 12, "orders")
	if len(resp.Brokers) != 2 || resp.Brokers[0].NodeID != 1 || resp.Brokers[1].NodeID != 2 || resp.ControllerID != 1 {
		t.Fatalf("with broker 0 stopped: brokers %+v, controller %d; want 1 and 2, controller 1", resp.Brokers, resp.ControllerID)
	}
	checkPartitions(1, 12, resp, []int32{0})
	for _, p := range resp.Topics[0].Partitions {
		if p.Leader == 0 || slices.Contains(p.ISR, 0) {
			t.Errorf("partition %d: leader %d, ISR %v with broker 0 stopped", p.Partition, p.Leader, p.ISR)
		}
	}

	cluster := kmsg.NewPtrDescribeClusterRequest()
	cluster.Version = 2
	described := c.roundTrip(cluster).(*kmsg.DescribeClusterResponse)
	if described.ErrorCode != 0 || described.ControllerID != 1 || len(described.Brokers) != 2 {
		t.Fatalf("DescribeCluster: %+v, want brokers 1 and 2, controller 1", described)
	}
	cluster.IncludeFencedBrokers = true
	described = c.roundTrip(cluster).(*kmsg.DescribeClusterResponse)
	if len(described.Brokers) != 3 {
		t.Fatalf("DescribeCluster with the fenced: %+v", described.Brokers)
	}
	for _, b := range described.Brokers {
		host, port := wantAddr(b.NodeID)
		if b.Host != host || b.Port != port || b.IsFenced != (b.NodeID == 0) {
			t.Errorf("DescribeCluster: broker %+v, want at %s:%d, fenced only if 0", b, host, port)
		}
	}
}

// TestBrokersMetadataLeaderWithoutAddress serves only brokers 0 and 1 of three:
// broker 2 has no address, so it is not listed; a partition it leads answers
// LISTENER_NOT_FOUND (Kafka's answer for a leader without the client's
// listener), and its replicas are offline replicas.
func TestBrokersMetadataLeaderWithoutAddress(t *testing.T) {
	store := openThreeBrokers(t)
	if err := store.CreateTopic(context.Background(), "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{store: store}
	lns := listenLoopback(t, 2)
	served := make(chan error, 2)
	for id, ln := range lns {
		go func() { served <- s.ServeBroker(replica.BrokerID(id), ln) }()
	}
	t.Cleanup(func() {
		s.Close()
		for range lns {
			if err := <-served; err != ErrServerClosed {
				t.Errorf("ServeBroker: %v", err)
			}
		}
		store.Close()
	})
	ts.addr = lns[0].Addr().String()
	resp := metadataOf(ts.dial(t), 12, "orders")
	if len(resp.Brokers) > 2 || slices.ContainsFunc(resp.Brokers, func(b kmsg.MetadataResponseBroker) bool { return b.NodeID == 2 }) {
		t.Fatalf("brokers %+v: broker 2 has no address", resp.Brokers)
	}
	ledBy2 := 0
	for _, p := range resp.Topics[0].Partitions {
		if !slices.Contains(p.OfflineReplicas, 2) {
			t.Errorf("partition %d: offline replicas %v, want broker 2 among them", p.Partition, p.OfflineReplicas)
		}
		if describePartition(t, store, "orders", p.Partition).Leader == 2 {
			ledBy2++
			if p.ErrorCode != kerr.ListenerNotFound.Code || p.Leader != -1 {
				t.Errorf("partition %d, led by broker 2: %+v, want LISTENER_NOT_FOUND, leader -1", p.Partition, p)
			}
		}
	}
	if ledBy2 == 0 {
		t.Fatalf("no partition led by broker 2")
	}
	bad, err := NewServer(store, &Options{BrokerAddrs: map[replica.BrokerID]string{1: "no-port"}})
	if err == nil || bad != nil {
		t.Errorf("NewServer with a broker address without a port: %v, want an *OptionsError", err)
	}
	if err := s.ServeBroker(7, listenLoopback(t, 1)[0]); !errors.Is(err, replica.ErrUnknownBroker) {
		t.Errorf("ServeBroker of broker 7: %v, want replica.ErrUnknownBroker", err)
	}
}

// TestBrokersListenerOnEveryInterface serves broker 0 on a listener bound to
// every interface (0.0.0.0): Metadata gives it at the host the client reached
// (127.0.0.1 here), with its listener's port, rather than at 0.0.0.0.
func TestBrokersListenerOnEveryInterface(t *testing.T) {
	store := openThreeBrokers(t)
	every, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on every interface: %v", err)
	}
	loopback := listenLoopback(t, 2)
	listeners := map[replica.BrokerID]net.Listener{0: every, 1: loopback[0], 2: loopback[1]}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeBrokers(ctx, listeners, store, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeBrokers: %v", err)
		}
		store.Close()
	})
	nc, err := net.Dial("tcp", loopback[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	resp := metadataOf(&rawConn{t: t, nc: nc}, 12)
	_, port := hostPort(t, every.Addr().String())
	if len(resp.Brokers) != 3 || resp.Brokers[0].Host != "127.0.0.1" || resp.Brokers[0].Port != port {
		t.Errorf("brokers %+v, want broker 0 at 127.0.0.1:%d", resp.Brokers, port)
	}
}
