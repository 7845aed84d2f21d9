package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
	"github.com/twmb/franz-go/pkg/kmsg"
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
