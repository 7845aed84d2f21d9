package kafka

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/segment"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawBatch returns a record batch of values as a client encodes it.
func rawBatch(t testing.TB, values ...string) []byte {
	t.Helper()
	records := make([]segment.Record, len(values))
	for i, v := range values {
		records[i] = segment.Record{Timestamp: time.Now().UnixMilli(), Value: []byte(v)}
	}
	b, err := segment.AppendBatch(nil, records, &segment.BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// partitionRequests returns a request of each API that goes to a partition's
// leader, for partition 0 of topic (of store: the versions that name topics by
// ID name it by its ID), at version lowest or highest, with the code of their
// answer for it.
func partitionRequests(t testing.TB, store *log.Store, topic string, version string) map[string]struct {
	req  kmsg.Request
	code func(kmsg.Response) int16
} {
	at := func(key kmsg.Key) int16 {
		a := lookupAPI(key.Int16())
		if version == "lowest" {
			return a.minVersion
		}
		return a.maxVersion
	}
	type entry = struct {
		req  kmsg.Request
		code func(kmsg.Response) int16
	}
	out := map[string]entry{}
	id, err := store.TopicID(topic)
	if err != nil {
		t.Fatal(err)
	}

	produce := kmsg.NewPtrProduceRequest()
	produce.Version, produce.Acks, produce.TimeoutMillis = at(kmsg.Produce), -1, 60_000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic, pt.TopicID = topic, id
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = rawBatch(t, "raw")
	pt.Partitions = append(pt.Partitions, pp)
	produce.Topics = append(produce.Topics, pt)
	out["Produce"] = entry{produce, func(r kmsg.Response) int16 {
		return r.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
	}}

	fetch := kmsg.NewPtrFetchRequest()
	// A ten-minute long poll: a partition this broker does not lead answers at once.
	fetch.Version, fetch.ReplicaID, fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = at(kmsg.Fetch), -1, 600_000, 1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = topic, id
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = 1<<20, -1
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	out["Fetch"] = entry{fetch, func(r kmsg.Response) int16 {
		return r.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode
	}}

	list := kmsg.NewPtrListOffsetsRequest()
	list.Version, list.ReplicaID = at(kmsg.ListOffsets), -1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	lp := kmsg.NewListOffsetsRequestTopicPartition()
	lp.Timestamp = -1
	lt.Partitions = append(lt.Partitions, lp)
	list.Topics = append(list.Topics, lt)
	out["ListOffsets"] = entry{list, func(r kmsg.Response) int16 {
		return r.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].ErrorCode
	}}

	epoch := kmsg.NewPtrOffsetForLeaderEpochRequest()
	epoch.Version, epoch.ReplicaID = at(kmsg.OffsetForLeaderEpoch), -1
	et := kmsg.NewOffsetForLeaderEpochRequestTopic()
	et.Topic = topic
	ep := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	ep.CurrentLeaderEpoch, ep.LeaderEpoch = -1, 0
	et.Partitions = append(et.Partitions, ep)
	epoch.Topics = append(epoch.Topics, et)
	out["OffsetForLeaderEpoch"] = entry{epoch, func(r kmsg.Response) int16 {
		return r.(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0].ErrorCode
	}}

	del := kmsg.NewPtrDeleteRecordsRequest()
	del.Version, del.TimeoutMillis = at(kmsg.DeleteRecords), 60_000
	dt := kmsg.NewDeleteRecordsRequestTopic()
	dt.Topic = topic
	dt.Partitions = []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0, Offset: 0}}
	del.Topics = append(del.Topics, dt)
	out["DeleteRecords"] = entry{del, func(r kmsg.Response) int16 {
		return r.(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0].ErrorCode
	}}
	return out
}

// TestBrokersNonLeaderAnswersNotLeader sends Produce, Fetch (a ten-minute long
// poll), ListOffsets, OffsetForLeaderEpoch and DeleteRecords of a partition, at
// their lowest and highest versions, to each broker of a store of three: the
// two that do not lead it answer NOT_LEADER_OR_FOLLOWER, at once, and write
// nothing; the leader answers. After a failover (the leader's broker stopped),
// the new leader answers and the others, the old leader back again included,
// answer NOT_LEADER_OR_FOLLOWER.
func TestBrokersNonLeaderAnswersNotLeader(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, nil)
	ctx := context.Background()
	if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 1, ReplicationFactor: 3, MinInsyncReplicas: 2}); err != nil {
		t.Fatal(err)
	}
	dial := func(id replica.BrokerID) *rawConn {
		c := bs.dial(t, id)
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Minute)) // a bound on a hang, not a wait
		return c
	}
	names := []string{"Produce", "Fetch", "ListOffsets", "OffsetForLeaderEpoch", "DeleteRecords"}
	produced := int64(0)
	check := func(conns map[replica.BrokerID]*rawConn) {
		t.Helper()
		leader := describePartition(t, store, "orders", 0).Leader
		for _, version := range []string{"lowest", "highest"} {
			requests := partitionRequests(t, store, "orders", version)
			for id, c := range conns {
				want := kerr.NotLeaderForPartition.Code
				if id == leader {
					want = 0
					produced++
				}
				for _, name := range names {
					e := requests[name]
					if code := e.code(c.roundTrip(e.req)); code != want {
						t.Errorf("%s v%d to broker %d (leader %d): error %d, want %d", name, e.req.GetVersion(), id, leader, code, want)
					}
				}
			}
		}
		if end := describePartition(t, store, "orders", 0).EndOffset; end != produced {
			t.Errorf("end offset %d, want %d: only the leader writes", end, produced)
		}
	}
	conns := map[replica.BrokerID]*rawConn{}
	for id := range bs.addrs {
		conns[id] = dial(id)
	}
	check(conns)

	old := describePartition(t, store, "orders", 0).Leader
	if err := store.StopBroker(old); err != nil {
		t.Fatal(err)
	}
	delete(conns, old)
	check(conns)
	if err := store.StartBroker(old); err != nil {
		t.Fatal(err)
	}
	if err := store.AwaitInSync(ctx); err != nil {
		t.Fatal(err)
	}
	if describePartition(t, store, "orders", 0).Leader == old {
		t.Fatalf("broker %d leads again once started: no failover to check", old)
	}
	conns[old] = dial(old)
	check(conns)
}

// TestBrokersStoppedBrokerAnswersNothing stops a broker of three: its listener
// answers nothing, as a Kafka broker that is down (the connections open before
// are reset at once, an idle one and one with a long-poll Fetch in flight, a new
// one as soon as it is accepted), while the other brokers answer; once the
// broker is started again, it answers.
func TestBrokersStoppedBrokerAnswersNothing(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, nil)
	if err := store.CreateTopic(context.Background(), "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	led := int32(-1) // a partition broker 1 leads
	for p := range int32(3) {
		if describePartition(t, store, "orders", p).Leader == 1 {
			led = p
		}
	}
	if led < 0 {
		t.Fatal("broker 1 leads no partition")
	}
	idle := bs.dial(t, 1)
	apiVersions := kmsg.NewPtrApiVersionsRequest()
	idle.roundTrip(apiVersions)
	polling := bs.dial(t, 1)
	fetch := partitionRequests(t, store, "orders", "highest")["Fetch"].req.(*kmsg.FetchRequest)
	fetch.Topics[0].Partitions[0].Partition = led
	fetch.Topics[0].Partitions[0].FetchOffset = 0 // nothing yet: waits ten minutes for a record
	polling.roundTrip(apiVersions)
	polling.send(frame(fetch, 3))
	if err := store.StopBroker(1); err != nil {
		t.Fatal(err)
	}
	idle.expectClosed()
	polling.expectClosed()
	// A new connection is reset once accepted: the dial itself may see it.
	if nc, err := net.Dial("tcp", bs.addrs[1]); err == nil {
		(&rawConn{t: t, nc: nc}).expectClosed()
		nc.Close()
	}
	bs.dial(t, 2).roundTrip(apiVersions)
	if err := store.StartBroker(1); err != nil {
		t.Fatal(err)
	}
	bs.dial(t, 1).roundTrip(apiVersions)
	if !strings.Contains(bs.logs.String(), "the broker is stopped") {
		t.Errorf("the closed connection is not logged: %s", bs.logs.String())
	}
}

// TestBrokersNotLeaderCarriesLeaderHints sends Produce and Fetch of a partition
// to a broker that does not lead it: from Produce v10 and Fetch v12, the
// NOT_LEADER_OR_FOLLOWER answer names the current leader and its epoch, and
// the response gives the leader's address (KIP-951); Produce v9 has no hints.
func TestBrokersNotLeaderCarriesLeaderHints(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, nil)
	if err := store.CreateTopic(context.Background(), "orders", log.TopicConfig{Partitions: 1, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	p := describePartition(t, store, "orders", 0)
	c := bs.dial(t, (p.Leader+1)%3)
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Minute)) // a bound on a hang, not a wait
	wantHost, wantPort := hostPort(t, bs.addrs[p.Leader])
	requests := partitionRequests(t, store, "orders", "highest")

	produce := requests["Produce"].req.(*kmsg.ProduceRequest)
	produced := c.roundTrip(produce).(*kmsg.ProduceResponse)
	part := produced.Topics[0].Partitions[0]
	if part.ErrorCode != kerr.NotLeaderForPartition.Code || part.CurrentLeader.LeaderID != int32(p.Leader) || part.CurrentLeader.LeaderEpoch != p.LeaderEpoch {
		t.Errorf("Produce v%d: %+v, want NOT_LEADER_OR_FOLLOWER naming leader %d epoch %d", produce.Version, part, p.Leader, p.LeaderEpoch)
	}
	if len(produced.Brokers) != 1 || produced.Brokers[0].NodeID != int32(p.Leader) || produced.Brokers[0].Host != wantHost || produced.Brokers[0].Port != wantPort {
		t.Errorf("Produce v%d: brokers %+v, want the leader %d at %s:%d", produce.Version, produced.Brokers, p.Leader, wantHost, wantPort)
	}
	produce.Version = 9
	produced = c.roundTrip(produce).(*kmsg.ProduceResponse)
	if part := produced.Topics[0].Partitions[0]; part.ErrorCode != kerr.NotLeaderForPartition.Code || part.CurrentLeader.LeaderID != -1 || len(produced.Brokers) != 0 {
		t.Errorf("Produce v9: %+v, brokers %+v; want NOT_LEADER_OR_FOLLOWER without hints", part, produced.Brokers)
	}

	fetch := requests["Fetch"].req.(*kmsg.FetchRequest)
	fetched := c.roundTrip(fetch).(*kmsg.FetchResponse)
	fp := fetched.Topics[0].Partitions[0]
	if fp.ErrorCode != kerr.NotLeaderForPartition.Code || fp.CurrentLeader.LeaderID != int32(p.Leader) || fp.CurrentLeader.LeaderEpoch != p.LeaderEpoch {
		t.Errorf("Fetch v%d: %+v, want NOT_LEADER_OR_FOLLOWER naming leader %d epoch %d", fetch.Version, fp, p.Leader, p.LeaderEpoch)
	}
	if len(fetched.Brokers) != 1 || fetched.Brokers[0].NodeID != int32(p.Leader) || fetched.Brokers[0].Host != wantHost || fetched.Brokers[0].Port != wantPort {
		t.Errorf("Fetch v%d: brokers %+v, want the leader %d at %s:%d", fetch.Version, fetched.Brokers, p.Leader, wantHost, wantPort)
	}
}
