package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/segment"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// unknownTopicID is an ID no topic of the tests has.
var unknownTopicID = [16]byte{0x42, 1, 2, 3, 4, 5, 6, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15}

// storeTopicID returns the store's ID of the named topic, failing the test if it
// has none.
func storeTopicID(t *testing.T, store *log.Store, name string) [16]byte {
	t.Helper()
	id, err := store.TopicID(name)
	require.NoError(t, err)
	require.False(t, id.IsZero())
	return id
}

// testBatch encodes values as one uncompressed batch, as a producer sends it.
func testBatch(t *testing.T, values ...string) []byte {
	t.Helper()
	records := make([]segment.Record, len(values))
	for i, v := range values {
		records[i] = segment.Record{Timestamp: 1_700_000_000_000 + int64(i), Value: []byte(v)}
	}
	b, err := segment.AppendBatch(nil, records, &segment.BatchOptions{})
	require.NoError(t, err)
	return b
}

// TestTopicIDsOnTheWire drives every API that names topics by ID, at its highest
// version, with raw requests: CreateTopics returns the store's ID; Metadata
// reports it and answers topics asked by it; Produce, Fetch, OffsetCommit and
// OffsetFetch name topics by it; DeleteTopics deletes by it. An ID no topic has
// is UNKNOWN_TOPIC_ID everywhere, the old ID of a topic deleted and created again
// too.
func TestTopicIDsOnTheWire(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	at := func(key kmsg.Key) int16 { return lookupAPI(key.Int16()).maxVersion }

	create := kmsg.NewPtrCreateTopicsRequest()
	create.Version = at(kmsg.CreateTopics)
	for _, name := range []string{"orders", "gone"} {
		topic := kmsg.NewCreateTopicsRequestTopic()
		topic.Topic, topic.NumPartitions, topic.ReplicationFactor = name, 2, -1
		create.Topics = append(create.Topics, topic)
	}
	created := c.roundTrip(create).(*kmsg.CreateTopicsResponse)
	require.Equal(t, int16(7), create.Version)
	for _, topic := range created.Topics {
		require.Zero(t, topic.ErrorCode, topic.Topic)
		require.Equal(t, storeTopicID(t, ts.store, topic.Topic), topic.TopicID, "CreateTopics v7 answers the topic's ID")
	}
	orders, gone := storeTopicID(t, ts.store, "orders"), storeTopicID(t, ts.store, "gone")
	require.NotEqual(t, orders, gone)

	// Metadata: every topic with its ID; by ID (the name answered); an unknown ID.
	metadata := kmsg.NewPtrMetadataRequest()
	metadata.Version = at(kmsg.Metadata)
	all := c.roundTrip(metadata).(*kmsg.MetadataResponse)
	ids := map[string][16]byte{}
	for _, topic := range all.Topics {
		ids[*topic.Topic] = topic.TopicID
	}
	require.Equal(t, map[string][16]byte{"orders": orders, "gone": gone}, ids)
	metadata.Topics = []kmsg.MetadataRequestTopic{{TopicID: orders}, {TopicID: unknownTopicID}, {Topic: kmsg.StringPtr("gone")}}
	asked := c.roundTrip(metadata).(*kmsg.MetadataResponse)
	require.Len(t, asked.Topics, 3)
	byID := asked.Topics[0]
	require.Zero(t, byID.ErrorCode)
	require.Equal(t, "orders", *byID.Topic)
	require.Equal(t, orders, byID.TopicID)
	require.Len(t, byID.Partitions, 2)
	require.Equal(t, kerr.UnknownTopicID.Code, asked.Topics[1].ErrorCode)
	require.Equal(t, unknownTopicID, asked.Topics[1].TopicID)
	require.Equal(t, gone, asked.Topics[2].TopicID)

	// Produce v13 names topics by ID.
	produce := kmsg.NewPtrProduceRequest()
	produce.Version, produce.Acks, produce.TimeoutMillis = at(kmsg.Produce), -1, 30_000
	require.Equal(t, int16(13), produce.Version)
	produce.Topics = []kmsg.ProduceRequestTopic{
		{TopicID: orders, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 1, Records: testBatch(t, "a", "b")}}},
		{TopicID: unknownTopicID, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: testBatch(t, "x")}}},
	}
	produced := c.roundTrip(produce).(*kmsg.ProduceResponse)
	require.Len(t, produced.Topics, 2)
	require.Equal(t, orders, produced.Topics[0].TopicID)
	require.Zero(t, produced.Topics[0].Partitions[0].ErrorCode)
	require.Equal(t, int64(0), produced.Topics[0].Partitions[0].BaseOffset)
	require.Equal(t, unknownTopicID, produced.Topics[1].TopicID)
	require.Equal(t, kerr.UnknownTopicID.Code, produced.Topics[1].Partitions[0].ErrorCode)
	d, err := ts.store.DescribeTopic("orders")
	require.NoError(t, err)
	require.Equal(t, int64(2), d.Partitions[1].EndOffset)

	// Fetch v13+ names topics by ID; unknown IDs alone are answered at once,
	// however long the request would wait.
	for _, version := range []int16{13, at(kmsg.Fetch)} {
		fetch := kmsg.NewPtrFetchRequest()
		fetch.Version, fetch.MaxWaitMillis, fetch.MinBytes = version, 0, 1
		partition := kmsg.NewFetchRequestTopicPartition()
		partition.Partition, partition.FetchOffset, partition.PartitionMaxBytes = 1, 0, 1<<20
		fetch.Topics = []kmsg.FetchRequestTopic{
			{TopicID: orders, Partitions: []kmsg.FetchRequestTopicPartition{partition}},
			{TopicID: unknownTopicID, Partitions: []kmsg.FetchRequestTopicPartition{partition}},
		}
		fetched := c.roundTrip(fetch).(*kmsg.FetchResponse)
		require.Len(t, fetched.Topics, 2, "v%d", version)
		got := map[[16]byte]kmsg.FetchResponseTopicPartition{}
		for _, topic := range fetched.Topics {
			got[topic.TopicID] = topic.Partitions[0]
		}
		require.Zero(t, got[orders].ErrorCode, "v%d", version)
		require.Equal(t, int64(2), got[orders].HighWatermark, "v%d", version)
		require.True(t, bytes.Contains(got[orders].RecordBatches, []byte("a")) && bytes.Contains(got[orders].RecordBatches, []byte("b")), "v%d", version)
		require.Equal(t, kerr.UnknownTopicID.Code, got[unknownTopicID].ErrorCode, "v%d", version)

		fetch.MaxWaitMillis = int32(time.Hour / time.Millisecond) // a bug would hang here, not pass
		fetch.Topics = fetch.Topics[1:]
		fetched = c.roundTrip(fetch).(*kmsg.FetchResponse)
		require.Len(t, fetched.Topics, 1)
		require.Equal(t, kerr.UnknownTopicID.Code, fetched.Topics[0].Partitions[0].ErrorCode, "v%d", version)
	}

	// OffsetCommit and OffsetFetch v10 name topics by ID.
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Version, commit.Group, commit.Generation = at(kmsg.OffsetCommit), "g", -1
	require.Equal(t, int16(10), commit.Version)
	commit.Topics = []kmsg.OffsetCommitRequestTopic{
		{TopicID: orders, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 1, Offset: 2, LeaderEpoch: -1}}},
		{TopicID: gone, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 5, LeaderEpoch: -1}}},
		{TopicID: unknownTopicID, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1, LeaderEpoch: -1}}},
	}
	committed := c.roundTrip(commit).(*kmsg.OffsetCommitResponse)
	require.Len(t, committed.Topics, 3)
	for i, want := range []int16{0, 0, kerr.UnknownTopicID.Code} {
		require.Equal(t, commit.Topics[i].TopicID, committed.Topics[i].TopicID)
		require.Equal(t, want, committed.Topics[i].Partitions[0].ErrorCode, "topic %d", i)
	}
	offsetFetch := kmsg.NewPtrOffsetFetchRequest()
	offsetFetch.Version = at(kmsg.OffsetFetch)
	require.Equal(t, int16(10), offsetFetch.Version)
	offsetFetch.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g", MemberEpoch: -1, Topics: []kmsg.OffsetFetchRequestGroupTopic{
		{TopicID: orders, Partitions: []int32{0, 1}}, {TopicID: unknownTopicID, Partitions: []int32{0}},
	}}}
	fetchedOffsets := c.roundTrip(offsetFetch).(*kmsg.OffsetFetchResponse).Groups[0]
	require.Zero(t, fetchedOffsets.ErrorCode)
	require.Len(t, fetchedOffsets.Topics, 2)
	require.Equal(t, orders, fetchedOffsets.Topics[0].TopicID)
	require.Equal(t, []int64{-1, 2}, []int64{fetchedOffsets.Topics[0].Partitions[0].Offset, fetchedOffsets.Topics[0].Partitions[1].Offset})
	require.Equal(t, unknownTopicID, fetchedOffsets.Topics[1].TopicID)
	require.Equal(t, kerr.UnknownTopicID.Code, fetchedOffsets.Topics[1].Partitions[0].ErrorCode)

	// DeleteTopics v6 by ID answers the name too; by name, the ID.
	drop := kmsg.NewPtrDeleteTopicsRequest()
	drop.Version = at(kmsg.DeleteTopics)
	drop.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: gone}, {TopicID: unknownTopicID}}
	dropped := c.roundTrip(drop).(*kmsg.DeleteTopicsResponse)
	require.Zero(t, dropped.Topics[0].ErrorCode)
	require.Equal(t, "gone", *dropped.Topics[0].Topic)
	require.Equal(t, gone, dropped.Topics[0].TopicID)
	require.Equal(t, kerr.UnknownTopicID.Code, dropped.Topics[1].ErrorCode)
	_, err = ts.store.DescribeTopic("gone")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
	dropped = c.roundTrip(drop).(*kmsg.DeleteTopicsResponse)
	require.Equal(t, kerr.UnknownTopicID.Code, dropped.Topics[0].ErrorCode, "deleting it again by ID")

	// Every offset of the group (a null topic list), by ID: the deleted topic's
	// have none and are left out.
	offsetFetch.Groups[0].Topics = nil
	everything := c.roundTrip(offsetFetch).(*kmsg.OffsetFetchResponse).Groups[0]
	require.Zero(t, everything.ErrorCode)
	require.Len(t, everything.Topics, 1, "%+v", everything.Topics)
	require.Equal(t, orders, everything.Topics[0].TopicID)

	// A topic created again under the name has a new ID; the old one is unknown.
	create.Topics = create.Topics[1:]
	recreated := c.roundTrip(create).(*kmsg.CreateTopicsResponse).Topics[0]
	require.Zero(t, recreated.ErrorCode)
	require.NotEqual(t, gone, recreated.TopicID)
	require.Equal(t, storeTopicID(t, ts.store, "gone"), recreated.TopicID)
	metadata.Topics = []kmsg.MetadataRequestTopic{{TopicID: gone}, {TopicID: recreated.TopicID}}
	asked = c.roundTrip(metadata).(*kmsg.MetadataResponse)
	require.Equal(t, kerr.UnknownTopicID.Code, asked.Topics[0].ErrorCode)
	require.Zero(t, asked.Topics[1].ErrorCode)
	require.Equal(t, "gone", *asked.Topics[1].Topic)

	// By name, DeleteTopics v6 answers the ID.
	drop.Topics = []kmsg.DeleteTopicsRequestTopic{{Topic: kmsg.StringPtr("gone")}}
	dropped = c.roundTrip(drop).(*kmsg.DeleteTopicsResponse)
	require.Zero(t, dropped.Topics[0].ErrorCode)
	require.Equal(t, recreated.TopicID, dropped.Topics[0].TopicID)
}

// TestApiVersionsV5ChecksClusterAndNode: ApiVersions v5 (KIP-1242) answers
// REBOOTSTRAP_REQUIRED when the client expects another cluster or a node that is
// not one of the store's brokers, INVALID_REQUEST when it names only one of the
// two, and the served APIs otherwise.
func TestApiVersionsV5ChecksClusterAndNode(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	for name, tc := range map[string]struct {
		cluster *string
		node    int32
		want    int16
	}{
		"neither (bootstrapping)": {nil, -1, 0},
		"this cluster and node":   {kmsg.StringPtr(DefaultClusterID), 0, 0},
		"another cluster":         {kmsg.StringPtr("other"), 0, kerr.RebootstrapRequired.Code},
		"another node":            {kmsg.StringPtr(DefaultClusterID), 7, kerr.RebootstrapRequired.Code},
		"the cluster alone":       {kmsg.StringPtr(DefaultClusterID), -1, kerr.InvalidRequest.Code},
		"the node alone":          {nil, 0, kerr.InvalidRequest.Code},
	} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 5
		req.ClientSoftwareName, req.ClientSoftwareVersion = "strata-test", "1.0"
		req.ClusterID, req.NodeID = tc.cluster, tc.node
		resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
		require.Equal(t, tc.want, resp.ErrorCode, name)
		if tc.want == 0 {
			require.Len(t, resp.ApiKeys, len(apis), name)
		}
	}
}

// versionSniffer is a TCP proxy in front of a server that records the highest
// version of each API key that clients sent through it.
type versionSniffer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	max    map[int16]int16
	conns  []net.Conn
}

// newVersionSniffer listens on a loopback port; serve starts relaying to target.
func newVersionSniffer(t *testing.T) *versionSniffer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &versionSniffer{ln: ln, max: map[int16]int16{}}
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s
}

func (s *versionSniffer) serve(target string) {
	s.target = target
	go func() {
		for {
			client, err := s.ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", s.target)
			if err != nil {
				client.Close()
				continue
			}
			s.mu.Lock()
			s.conns = append(s.conns, client, server)
			s.mu.Unlock()
			go func() { io.Copy(client, server); client.Close() }()
			go s.relayRequests(client, server)
		}
	}()
}

// relayRequests copies requests from client to server, noting their versions.
func (s *versionSniffer) relayRequests(client, server net.Conn) {
	defer server.Close()
	for {
		var size [4]byte
		if _, err := io.ReadFull(client, size[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(client, body); err != nil || len(body) < 4 {
			return
		}
		key, version := int16(binary.BigEndian.Uint16(body)), int16(binary.BigEndian.Uint16(body[2:]))
		s.mu.Lock()
		if v, ok := s.max[key]; !ok || version > v {
			s.max[key] = version
		}
		s.mu.Unlock()
		if _, err := server.Write(append(size[:], body...)); err != nil {
			return
		}
	}
}

// highest returns the highest version of key sent, or -1.
func (s *versionSniffer) highest(key kmsg.Key) int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.max[key.Int16()]; ok {
		return v
	}
	return -1
}

// TestTopicIDsWithKgoAndKadm: kadm sees the store's topic IDs (CreateTopic,
// ListTopics), and kgo, which names topics by ID once the broker offers it,
// produces with Produce v13 and consumes with Fetch v13+ through the listener.
func TestTopicIDsWithKgoAndKadm(t *testing.T) {
	sniffer := newVersionSniffer(t)
	ts := startServer(t, &Options{AdvertisedAddr: sniffer.ln.Addr().String()}, nil)
	sniffer.serve(ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seed := kgo.SeedBrokers(sniffer.ln.Addr().String())

	adm := kadm.NewClient(ts.client(t, seed))
	created, err := adm.CreateTopic(ctx, 2, -1, nil, "orders")
	require.NoError(t, err)
	require.NoError(t, created.Err)
	id := storeTopicID(t, ts.store, "orders")
	require.Equal(t, kadm.TopicID(id), created.ID)
	listed, err := adm.ListTopics(ctx)
	require.NoError(t, err)
	require.Equal(t, kadm.TopicID(id), listed["orders"].ID)

	producer := ts.client(t, seed, kgo.DefaultProduceTopic("orders"))
	want := map[string]bool{}
	for i := range 20 {
		v := fmt.Sprintf("v%d", i)
		want[v] = true
		require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Key: []byte(v), Value: []byte(v)}).FirstErr())
	}
	consumer := ts.client(t, seed, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]bool{}
	for len(got) < len(want) {
		fetches := consumer.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "got %d of %d records", len(got), len(want))
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
	require.Equal(t, want, got)
	require.Equal(t, int16(13), sniffer.highest(kmsg.Produce), "kgo produced by topic ID")
	require.Equal(t, lookupAPI(kmsg.Fetch.Int16()).maxVersion, sniffer.highest(kmsg.Fetch), "kgo fetched by topic ID")
	require.GreaterOrEqual(t, sniffer.highest(kmsg.Fetch), int16(13))
}

// TestApiVersionsV5ChecksTheListenersBroker: on a broker's own listener
// (ServeBroker) the node an ApiVersions v5 client expects must be that broker:
// another broker of the store is REBOOTSTRAP_REQUIRED, as a Kafka broker answers
// a client that reached it under another node's address.
func TestApiVersionsV5ChecksTheListenersBroker(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, nil)
	for listener := range int32(3) {
		c := bs.dial(t, replica.BrokerID(listener))
		for node := range int32(3) {
			req := kmsg.NewPtrApiVersionsRequest()
			req.Version = 5
			req.ClientSoftwareName, req.ClientSoftwareVersion = "strata-test", "1.0"
			req.ClusterID, req.NodeID = kmsg.StringPtr(DefaultClusterID), node
			resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
			want := kerr.RebootstrapRequired.Code
			if node == listener {
				want = 0
			}
			require.Equal(t, want, resp.ErrorCode, "node %d on broker %d's listener", node, listener)
		}
	}
}

// TestFetchByIDOfATopicMadeAgainMeanwhile: a Fetch v13+ names its topics by ID,
// resolved to names before the read; a topic deleted and made again under its
// name between the two (a new ID) is answered UNKNOWN_TOPIC_ID, not with the
// new topic's records under the old ID.
func TestFetchByIDOfATopicMadeAgainMeanwhile(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx := context.Background()
	require.NoError(t, ts.store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 1}))
	old := storeTopicID(t, ts.store, "orders")
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.MaxBytes = 13, 1<<20
	topic := kmsg.NewFetchRequestTopic()
	topic.TopicID = old
	partition := kmsg.NewFetchRequestTopicPartition()
	partition.PartitionMaxBytes, partition.CurrentLeaderEpoch = 1<<20, -1
	topic.Partitions = append(topic.Partitions, partition)
	req.Topics = append(req.Topics, topic)
	require.Empty(t, resolveFetchTopicIDs(ts.store, req))
	require.Equal(t, "orders", req.Topics[0].Topic)

	require.NoError(t, ts.store.DeleteTopic(ctx, "orders"))
	require.NoError(t, ts.store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 1}))
	produceValues(t, ts.store, "orders", 0, "of the new topic")

	resp := &fetchResponse{FetchResponse: kmsg.NewPtrFetchResponse()}
	resp.Version = req.Version
	defer resp.release()
	total := fillFetch(ctx, ts.store, req, log.ReadUncommitted, resp)
	require.Positive(t, total, "the read by name finds the new topic's record")
	require.Equal(t, total, dropRecreatedTopics(ts.store, req, resp))
	got := resp.Topics[0].Partitions[0]
	require.Equal(t, kerr.UnknownTopicID.Code, got.ErrorCode)
	require.Empty(t, got.RecordBatches)
	require.Equal(t, [16]byte(old), resp.Topics[0].TopicID)
}
