package kafka

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratalog/strata/log"
)

// TestProduceAndConsumeWithKgo: kgo produces to the listener at every acks
// level (idempotent by default at acks=all, which takes an InitProducerId), and
// a kgo consumer reads every record back, in order per partition; an in-process
// consumer of the store sees the same records.
func TestProduceAndConsumeWithKgo(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3}))

	acks := map[string][]kgo.Opt{
		"all":  {kgo.RequiredAcks(kgo.AllISRAcks())},
		"one":  {kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()},
		"none": {kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()},
	}
	want := map[string]bool{}
	for _, level := range []string{"all", "one", "none"} {
		cl := ts.client(t, append(acks[level], kgo.DefaultProduceTopic("orders"))...)
		for i := range 50 {
			v := fmt.Sprintf("%s-%d", level, i)
			want[v] = true
			r := &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i%7)), Value: []byte(v)}
			require.NoError(t, cl.ProduceSync(ctx, r).FirstErr(), level)
		}
		require.NoError(t, cl.Flush(ctx))
		cl.Close()
	}

	consumer := ts.client(t, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]bool{}
	lastOffset := map[int32]int64{}
	for len(got) < len(want) {
		fetches := consumer.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "got %d of %d records", len(got), len(want))
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			require.False(t, got[string(r.Value)], "%s twice", r.Value)
			if last, ok := lastOffset[r.Partition]; ok {
				require.Greater(t, r.Offset, last)
			}
			lastOffset[r.Partition] = r.Offset
			got[string(r.Value)] = true
		})
	}
	require.Equal(t, want, got)
}

// TestFetchMidBatchOffsetWithKgo: a consumer that starts in the middle of a
// batch gets the whole batch (the client skips the records before its offset),
// as from Kafka.
func TestFetchMidBatchOffsetWithKgo(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "t", log.TopicConfig{Partitions: 1}))
	records := make([]*log.Record, 10)
	for i := range records {
		records[i] = &log.Record{Topic: "t", Value: []byte(fmt.Sprint(i))}
	}
	require.NoError(t, ts.store.Produce(ctx, records...)) // one batch
	consumer := ts.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset().At(4)}}))
	var values []string
	for len(values) < 6 {
		fetches := consumer.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) { values = append(values, string(r.Value)) })
	}
	require.Equal(t, []string{"4", "5", "6", "7", "8", "9"}, values)
}

// TestFetchReadCommittedWithKgo: a kgo consumer at read_committed never sees the
// records of a transaction an in-process transactional producer aborted, and
// sees a committed one's; at read_uncommitted it sees both.
func TestFetchReadCommittedWithKgo(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "t", log.TopicConfig{Partitions: 1}))
	p, err := ts.store.NewProducer(log.ProducerOptions{TransactionalID: "x", Linger: -1})
	require.NoError(t, err)
	defer p.Close()
	for _, commit := range []bool{false, true} {
		require.NoError(t, p.BeginTransaction())
		v := fmt.Sprint("committed ", commit)
		require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "t", Value: []byte(v)}).FirstErr())
		if commit {
			require.NoError(t, p.CommitTransaction(ctx))
		} else {
			require.NoError(t, p.AbortTransaction(ctx))
		}
	}
	// The committed record is the last: once it arrives, everything before it
	// was delivered or skipped.
	read := func(opts ...kgo.Opt) []string {
		consumer := ts.client(t, append(opts, kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
		var values []string
		for len(values) == 0 || values[len(values)-1] != "committed true" {
			fetches := consumer.PollFetches(ctx)
			require.NoError(t, ctx.Err(), "got %q", values)
			fetches.EachRecord(func(r *kgo.Record) { values = append(values, string(r.Value)) })
		}
		return values
	}
	require.Equal(t, []string{"committed true"}, read(kgo.FetchIsolationLevel(kgo.ReadCommitted())))
	require.Equal(t, []string{"committed false", "committed true"}, read())
}

// TestProduceLz4RefusedWithKgo: a batch compressed with a codec strata cannot
// read (lz4) is refused with UNSUPPORTED_COMPRESSION_TYPE and never stored.
func TestProduceLz4RefusedWithKgo(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "t", log.TopicConfig{Partitions: 1}))
	cl := ts.client(t, kgo.DefaultProduceTopic("t"), kgo.ProducerBatchCompression(kgo.Lz4Compression()), kgo.RecordRetries(1))
	// Compressible: kgo sends a batch uncompressed when compressing does not shrink it.
	err := cl.ProduceSync(ctx, &kgo.Record{Value: bytes.Repeat([]byte("lz4 "), 4096)}).FirstErr()
	require.ErrorIs(t, err, kerr.UnsupportedCompressionType)
	ends, err := ts.store.ListEndOffsets("t")
	require.NoError(t, err)
	require.Zero(t, ends[log.TopicPartition{Topic: "t"}])
}
