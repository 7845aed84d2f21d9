package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestGroupTransactSessionWithKgo runs kgo's consume-transform-produce loop
// (GroupTransactSession: a group consumer whose offsets are committed in the
// producer's transaction) through the listener: FindCoordinator answers both
// the group and the transactional ID, the output is visible to a read_committed
// consumer, and the group's committed offsets are the input's end.
func TestGroupTransactSessionWithKgo(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "in", 1)
	createTestTopic(t, ts.store, "out", 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	producer := ts.client(t, kgo.DefaultProduceTopic("in"))
	for i := range 10 {
		if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	session, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(ts.addr),
		kgo.TransactionalID("transformer"),
		kgo.DefaultProduceTopic("out"),
		kgo.ConsumerGroup("etl"),
		kgo.ConsumeTopics("in"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.HeartbeatInterval(50*time.Millisecond),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	for transformed := 0; transformed < 10; {
		fetches := session.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("transformed %d of 10: %v", transformed, ctx.Err())
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := session.Begin(); err != nil {
			t.Fatal(err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			session.Produce(ctx, &kgo.Record{Value: append([]byte("out-"), r.Value...)}, nil)
			transformed++
		})
		committed, err := session.End(ctx, kgo.TryCommit)
		if err != nil || !committed {
			t.Fatalf("End: committed %v, %v", committed, err)
		}
	}

	consumer := ts.client(t, kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	for read := 0; read < 10; {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 10 outputs: %v", read, ctx.Err())
		}
		read += fetches.NumRecords()
	}
	offsets, err := kadm.NewClient(ts.client(t)).FetchOffsets(ctx, "etl")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offsets.Lookup("in", 0); !ok || o.At != 10 {
		t.Errorf("the group's committed offset of in-0: %+v, want 10", o)
	}
}
