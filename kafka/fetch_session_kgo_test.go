package kafka

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sessionsState returns, for every fetch session of the server, its epoch and
// its partitions' topics (by name).
func sessionsState(s *Server) (epochs []int32, topics []map[string]bool) {
	c := &s.fetchSessions
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.mu.sessions {
		f.mu.Lock()
		epochs = append(epochs, f.mu.epoch)
		names := map[string]bool{}
		for _, p := range f.mu.partitions {
			name := p.topic
			if f.usesTopicIDs {
				name, _ = topicNameOf(s.store, p.topicID)
			}
			names[name] = true
		}
		topics = append(topics, names)
		f.mu.Unlock()
	}
	return epochs, topics
}

// consumeCheck polls cl until want holds every value polled so far plus n new
// ones, checking that no record comes twice, that each partition's offsets rise,
// and that no record of topic forbidden comes.
type consumeCheck struct {
	t          testing.TB
	got        map[string]bool
	lastOffset map[string]int64
	forbidden  string
}

func (c *consumeCheck) poll(ctx context.Context, cl *kgo.Client, want int) {
	c.t.Helper()
	for len(c.got) < want {
		fetches := cl.PollFetches(ctx)
		require.NoError(c.t, ctx.Err(), "got %d of %d records", len(c.got), want)
		fetches.EachError(func(topic string, p int32, err error) { c.t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			require.NotEqual(c.t, c.forbidden, r.Topic, "a record of a topic no longer consumed")
			require.False(c.t, c.got[string(r.Value)], "%s twice", r.Value)
			key := fmt.Sprintf("%s-%d", r.Topic, r.Partition)
			if last, ok := c.lastOffset[key]; ok {
				require.Equal(c.t, last+1, r.Offset, "%s: offsets in order, none skipped", key)
			}
			c.lastOffset[key] = r.Offset
			c.got[string(r.Value)] = true
		})
	}
}

// produceRound produces n records to every partition of topic, values
// "topic-partition-round-i".
func produceRound(t testing.TB, ctx context.Context, cl *kgo.Client, topic string, partitions int, round, n int) int {
	t.Helper()
	var records []*kgo.Record
	for p := range partitions {
		for i := range n {
			records = append(records, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(fmt.Sprintf("%s-%d-%d-%d", topic, p, round, i))})
		}
	}
	require.NoError(t, cl.ProduceSync(ctx, records...).FirstErr())
	return len(records)
}

// TestFetchSessionKgoConsumesWhilePartitionsComeAndGo: kgo, which uses fetch
// sessions when the server gives it one, consumes a topic of 8 partitions, then
// a second topic added to its consumption, then drops the first: every record
// arrives once and in order, none of the dropped topic after it was dropped, the
// fetches went through an incremental session, and the session forgot the
// dropped topic's partitions.
func TestFetchSessionKgoConsumesWhilePartitionsComeAndGo(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createSessionTopic(t, ts, "first", 8)
	producer := ts.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	want := produceRound(t, ctx, producer, "first", 8, 0, 40)

	consumer := ts.client(t, kgo.ConsumeTopics("first"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(time.Second))
	check := &consumeCheck{t: t, got: map[string]bool{}, lastOffset: map[string]int64{}}
	check.poll(ctx, consumer, want)
	want += produceRound(t, ctx, producer, "first", 8, 1, 5)
	check.poll(ctx, consumer, want)
	epochs, _ := sessionsState(ts.server)
	require.NotEmpty(t, epochs, "kgo holds a session")
	require.GreaterOrEqual(t, slices.Max(epochs), int32(2), "and fetched incrementally: the first round came after the full fetch")

	createSessionTopic(t, ts, "second", 3)
	want += produceRound(t, ctx, producer, "second", 3, 0, 20)
	consumer.AddConsumeTopics("second")
	check.poll(ctx, consumer, want)
	want += produceRound(t, ctx, producer, "first", 8, 2, 5)
	want += produceRound(t, ctx, producer, "second", 3, 1, 5)
	check.poll(ctx, consumer, want)

	consumer.PurgeTopicsFromConsuming("first")
	check.forbidden = "first"
	produceRound(t, ctx, producer, "first", 8, 3, 5) // never consumed
	for round := 2; round <= 3; round++ {
		// The second round is fetched by a request made after the first round's
		// answer, so after the purge.
		want += produceRound(t, ctx, producer, "second", 3, round, 5)
		check.poll(ctx, consumer, want)
	}
	_, topics := sessionsState(ts.server)
	for _, names := range topics {
		require.False(t, names["first"], "the session forgot the purged topic's partitions")
	}
}
