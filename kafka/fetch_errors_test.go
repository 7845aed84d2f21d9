package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// openThreeBrokers opens a store of three brokers (0, 1, 2) in a temporary
// directory; the caller serves it (and the server's cleanup closes it).
func openThreeBrokers(t testing.TB) *log.Store {
	t.Helper()
	dir := t.TempDir()
	if err := log.InitBrokers(vfs.OS, dir, map[replica.BrokerID]string{0: "", 1: "", 2: ""}); err != nil {
		t.Fatal(err)
	}
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// TestFetchPartitionErrorAnswersAtOnce sends a long-poll Fetch (two minutes,
// MinBytes 1) of a partition without a leader: a partition that cannot be read
// answers at once with its error, as a Kafka broker answers a fetch that met an
// error, rather than polling the store until MaxWaitMs ends.
func TestFetchPartitionErrorAnswersAtOnce(t *testing.T) {
	store := openThreeBrokers(t)
	ts := serveStore(t, store, nil, nil)
	ctx := context.Background()
	if err := store.CreateTopic(ctx, "solo", log.TopicConfig{Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	d, err := store.DescribeTopic("solo")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.StopBroker(d.Partitions[0].Leader); err != nil {
		t.Fatal(err)
	}
	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version = 12
	fetch.ReplicaID, fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = -1, int32((2 * time.Minute).Milliseconds()), 1, 1<<20
	topic := kmsg.NewFetchRequestTopic()
	topic.Topic = "solo"
	partition := kmsg.NewFetchRequestTopicPartition()
	partition.PartitionMaxBytes, partition.CurrentLeaderEpoch = 1<<20, -1
	topic.Partitions = append(topic.Partitions, partition)
	fetch.Topics = append(fetch.Topics, topic)
	c := ts.dial(t)
	c.nc.SetReadDeadline(time.Now().Add(time.Minute)) // a bound on a hang, not a wait
	resp := c.roundTrip(fetch).(*kmsg.FetchResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code == 0 {
		t.Fatalf("fetch of a partition without a leader: no error")
	}
}

// fetchAt is one partition of a raw Fetch request.
type fetchAt struct {
	topic     string
	partition int32
	offset    int64
}

// newFetch returns a Fetch request at version for parts, in session sessionID at
// epoch, waiting up to maxWait for minBytes.
func newFetch(version int16, sessionID, epoch int32, maxWait time.Duration, minBytes int32, parts ...fetchAt) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.SessionID, req.SessionEpoch = version, sessionID, epoch
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = int32(maxWait/time.Millisecond), minBytes, 50<<20
	for _, p := range parts {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != p.topic {
			topic := kmsg.NewFetchRequestTopic()
			topic.Topic = p.topic
			req.Topics = append(req.Topics, topic)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p.partition, p.offset, 1<<20
		t := &req.Topics[len(req.Topics)-1]
		t.Partitions = append(t.Partitions, rp)
	}
	return req
}

// TestFetchWithAnErrorAnswersAtOnce: a long poll answers at once when reading a
// partition failed (an offset out of range), as Kafka's ReplicaManager does, or
// when every partition is of an unknown topic (Kafka's KafkaApis leaves those out
// of the wait: a deleted topic's partition still in a fetch session waits with the
// others), rather than waiting out MaxWaitMillis.
func TestFetchWithAnErrorAnswersAtOnce(t *testing.T) {
	ts := startServer(t, nil, nil)
	require.NoError(t, ts.store.CreateTopic(context.Background(), "live", log.TopicConfig{}))
	c := ts.dial(t)
	c.nc.SetReadDeadline(time.Now().Add(time.Minute)) // a bound on a hang, not a wait
	resp := c.roundTrip(newFetch(12, 0, -1, 2*time.Minute, 1, fetchAt{"gone", 0, 0})).(*kmsg.FetchResponse)
	require.Len(t, resp.Topics, 1)
	require.Equal(t, kerr.UnknownTopicOrPartition.Code, resp.Topics[0].Partitions[0].ErrorCode)

	resp = c.roundTrip(newFetch(12, 0, -1, 2*time.Minute, 1, fetchAt{"live", 0, 100}, fetchAt{"gone", 0, 0})).(*kmsg.FetchResponse)
	require.Len(t, resp.Topics, 2)
	require.Equal(t, kerr.OffsetOutOfRange.Code, resp.Topics[0].Partitions[0].ErrorCode)
	require.Equal(t, kerr.UnknownTopicOrPartition.Code, resp.Topics[1].Partitions[0].ErrorCode)
}

// TestFetchUnknownTopicWaitsWithTheOthers: a long poll of a known partition and
// one of an unknown topic (deleted, as happens to a partition of a fetch session)
// waits for the known one, as Kafka's KafkaApis leaves unknown topics out of the
// fetch it hands the ReplicaManager, and answers the unknown one's error with the
// data: a client that keeps such a partition in its fetches is not answered at
// once again and again.
func TestFetchUnknownTopicWaitsWithTheOthers(t *testing.T) {
	ts := startServer(t, nil, nil)
	require.NoError(t, ts.store.CreateTopic(context.Background(), "live", log.TopicConfig{}))
	c := ts.dial(t)
	c.nc.SetReadDeadline(time.Now().Add(time.Minute)) // a bound on a hang, not a wait
	req := newFetch(12, 0, -1, time.Minute, 1, fetchAt{"live", 0, 0}, fetchAt{"gone", 0, 0})
	c.send(frame(req, 7))
	require.NoError(t, ts.store.Produce(context.Background(), &log.Record{Topic: "live", Value: []byte("v")}))
	answer, _ := c.readResponse(req)
	resp := answer.(*kmsg.FetchResponse)
	require.Len(t, resp.Topics, 2)
	require.NotEmpty(t, resp.Topics[0].Partitions[0].RecordBatches, "the known partition's record, waited for")
	require.Equal(t, kerr.UnknownTopicOrPartition.Code, resp.Topics[1].Partitions[0].ErrorCode)
}
