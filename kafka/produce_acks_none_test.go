package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// acksNoneProduce returns a Produce request of acks=0 (no response) of one
// batch to partition 0 of topic, at Produce v7 (by name).
func acksNoneProduce(t testing.TB, topic string) *kmsg.ProduceRequest {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 7, 0, 60_000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = rawBatch(t, "fire and forget")
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// expectOpenAfterAcksNone checks that c is still served after an acks=0
// Produce: an ApiVersions sent after it is answered.
func expectOpenAfterAcksNone(t *testing.T, c *rawConn) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "raw-test", "1"
	c.send(frame(req, 8))
	if _, correlationID := c.readResponse(req); correlationID != 8 {
		t.Fatalf("correlation ID %d, want 8 (the acks=0 Produce got a response)", correlationID)
	}
}

// expectClosedAfterAcksNone checks that c was closed after an acks=0 Produce:
// an ApiVersions sent after it (the write may fail, the server having closed)
// is not answered.
func expectClosedAfterAcksNone(t *testing.T, c *rawConn) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "raw-test", "1"
	c.nc.Write(frame(req, 8))
	c.expectClosed()
}

// TestProduceAcksNoneErrorClosesConnection sends Produce requests with acks=0:
// one that succeeds gets no response and the connection goes on; one whose
// partition fails (an unknown topic; on a listener of one broker, a partition
// another broker leads) gets no response either, and the connection is closed,
// as Kafka's KafkaApis closes it "so that the producer client will know that
// some error has happened and will refresh its metadata". Otherwise a
// fire-and-forget producer whose leader moved keeps sending to the old one,
// every record dropped unseen, until its next periodic metadata refresh.
func TestProduceAcksNoneErrorClosesConnection(t *testing.T) {
	t.Run("one listener", func(t *testing.T) {
		ts := startServer(t, nil, nil)
		if err := ts.store.CreateTopic(context.Background(), "orders", log.TopicConfig{Partitions: 1}); err != nil {
			t.Fatal(err)
		}
		c := ts.dial(t)
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Minute)) // a bound on a hang, not a wait
		c.send(frame(acksNoneProduce(t, "orders"), 7))
		expectOpenAfterAcksNone(t, c)

		c.send(frame(acksNoneProduce(t, "no-such-topic"), 9))
		expectClosedAfterAcksNone(t, c)
	})
	t.Run("not the leader", func(t *testing.T) {
		store := openThreeBrokers(t)
		bs := serveEachBroker(t, store, nil)
		if err := store.CreateTopic(context.Background(), "orders", log.TopicConfig{Partitions: 1, ReplicationFactor: 3}); err != nil {
			t.Fatal(err)
		}
		leader := describePartition(t, store, "orders", 0).Leader
		follower := replica.BrokerID((int(leader) + 1) % 3)

		c := bs.dial(t, leader)
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Minute)) // a bound on a hang, not a wait
		c.send(frame(acksNoneProduce(t, "orders"), 7))
		expectOpenAfterAcksNone(t, c)

		c = bs.dial(t, follower)
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Minute))
		c.send(frame(acksNoneProduce(t, "orders"), 7))
		expectClosedAfterAcksNone(t, c)
	})
}
