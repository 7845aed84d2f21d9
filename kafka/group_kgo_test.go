package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kgoMember is a kgo group consumer of a test: its client and the partitions
// it was last assigned, reported on a channel.
type kgoMember struct {
	client   *kgo.Client
	assigned chan map[string][]int32
}

func newKgoMember(t *testing.T, ts *testServer, groupName string) *kgoMember {
	m := &kgoMember{assigned: make(chan map[string][]int32, 16)}
	m.client = ts.client(t,
		kgo.ConsumerGroup(groupName),
		kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.HeartbeatInterval(50*time.Millisecond),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			m.assigned <- assigned
		}),
	)
	return m
}

// pollUntil polls until it has n records, and returns their offsets by
// partition.
func (m *kgoMember) pollUntil(ctx context.Context, t *testing.T, n int) map[int32][]int64 {
	t.Helper()
	offsets := map[int32][]int64{}
	for got := 0; got < n; {
		fetches := m.client.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("got %d of %d records: %v", got, n, ctx.Err())
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			offsets[r.Partition] = append(offsets[r.Partition], r.Offset)
			got++
		})
	}
	return offsets
}

// TestGroupConsumeWithKgoTwoMembersRebalanceCommitResume consumes with kgo's
// group consumer: one member reads everything and commits; a second member
// joins, the group rebalances (the first member learns of it from its
// heartbeat) and each gets a partition; the second resumes its partition from
// the first member's commit; when it leaves, the first gets both back.
func TestGroupConsumeWithKgoTwoMembersRebalanceCommitResume(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	producer := ts.client(t, kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce := func(perPartition int) {
		t.Helper()
		for p := range int32(2) {
			for i := range perPartition {
				r := &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf("p%d-%d", p, i))}
				if err := producer.ProduceSync(ctx, r).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	produce(10)

	first := newKgoMember(t, ts, "kg")
	if got := first.pollUntil(ctx, t, 20); len(got[0]) != 10 || len(got[1]) != 10 {
		t.Fatalf("the first member read %v, want ten records of each partition", got)
	}
	if err := first.client.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}

	second := newKgoMember(t, ts, "kg")
	assignedSecond := <-second.assigned
	for len(assignedSecond["orders"]) != 1 {
		assignedSecond = <-second.assigned
	}
	resumed := assignedSecond["orders"][0]
	produce(5)
	// The first member, which polls to let its group management run, reads
	// the new records of the partition it kept.
	kept := first.pollUntil(ctx, t, 5)
	if len(kept) != 1 || len(kept[1-resumed]) != 5 || kept[1-resumed][0] != 10 {
		t.Errorf("the first member read %v after the rebalance, want offsets 10-14 of partition %d", kept, 1-resumed)
	}
	got := second.pollUntil(ctx, t, 5)
	if len(got) != 1 || len(got[resumed]) != 5 || got[resumed][0] != 10 {
		t.Errorf("the second member read %v, want offsets 10-14 of partition %d, resumed from the commit", got, resumed)
	}

	second.client.Close() // leaves the group
	for {
		assigned := <-first.assigned
		if len(assigned["orders"]) == 2 {
			break
		}
		first.client.PollFetches(ctx)
	}
}
