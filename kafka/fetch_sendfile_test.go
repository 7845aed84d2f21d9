//go:build linux

package kafka

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// produceNumbered produces n records "0".."n-1" to topic (partition 0) with cl.
func produceNumbered(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, n int) {
	t.Helper()
	records := make([]*kgo.Record, n)
	for i := range records {
		records[i] = &kgo.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "%d-%0100d", i, i)}
	}
	require.NoError(t, cl.ProduceSync(ctx, records...).FirstErr())
}

// consumeNumbered consumes n records of topic with a new client of ts and checks
// they are produceNumbered's, in order.
func consumeNumbered(t *testing.T, ctx context.Context, ts *testServer, topic string, n int, opts ...kgo.Opt) {
	t.Helper()
	consumer := ts.client(t, append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxPartitionBytes(20<<10))...)
	got := 0
	for got < n {
		fetches := consumer.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			require.Equal(t, fmt.Sprintf("%d-%0100d", got, got), string(r.Value))
			got++
		})
	}
}

// TestFetchSendsSealedSegmentsFromTheFile checks that kgo consumes records of
// sealed segments and the active one, every batch byte sent with sendfile and
// none copied.
func TestFetchSendsSealedSegmentsFromTheFile(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "t", log.TopicConfig{Partitions: 1, SegmentBytes: 16 << 10}))
	producer := ts.client(t, kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(4<<10), kgo.ProducerBatchCompression(kgo.NoCompression()))
	produceNumbered(t, ctx, producer, "t", 2000)
	consumeNumbered(t, ctx, ts, "t", 2000)
	stats := ts.server.FetchStats()
	require.Greater(t, stats.SentFromFileBytes, int64(2000*100), "every record's bytes came from the files")
	require.Zero(t, stats.CopiedBytes)
}

// TestFetchThroughTLSCopiesTheBatches checks that through TLS, which encrypts
// what it sends, the batches are written from memory.
func TestFetchThroughTLSCopiesTheBatches(t *testing.T) {
	ts, clientConfig := startTLSServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "t", log.TopicConfig{Partitions: 1, SegmentBytes: 16 << 10}))
	dialer := &tls.Dialer{Config: clientConfig}
	producer := ts.client(t, kgo.Dialer(dialer.DialContext), kgo.ProducerBatchCompression(kgo.NoCompression()))
	produceNumbered(t, ctx, producer, "t", 300)
	consumeNumbered(t, ctx, ts, "t", 300, kgo.Dialer(dialer.DialContext))
	stats := ts.server.FetchStats()
	require.Zero(t, stats.SentFromFileBytes)
	require.Greater(t, stats.CopiedBytes, int64(300*100))
}

// rawFetch sends a Fetch of version v for partition 0 of topic (of ts's store)
// from offset and returns the raw response frame (correlation id on) and its decoding.
func rawFetch(t *testing.T, ts *testServer, c *rawConn, v int16, topic string, offset int64, maxBytes int32) ([]byte, *kmsg.FetchResponse) {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.MaxBytes, req.MaxWaitMillis = v, maxBytes, 0
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	if v >= 13 {
		id, err := ts.store.TopicID(topic)
		require.NoError(t, err)
		rt.TopicID = id
	}
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = offset, maxBytes
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	c.send(frame(req, 5))
	raw, err := c.readFrame()
	require.NoError(t, err)
	resp, _ := decodeResponse(t, req, raw)
	return raw, resp.(*kmsg.FetchResponse)
}

// TestFetchResponseOnTheWireIsKmsgs checks at every version that the response
// sent (fields from the buffer, batches from the file) is, byte for byte,
// kmsg's encoding of what it decodes to, and holds the store's batches.
func TestFetchResponseOnTheWireIsKmsgs(t *testing.T) {
	store := fetchTestStore(t)
	ts := serveStore(t, store, nil, nil)
	c := ts.dial(t)
	ctx := context.Background()
	for v := int16(minEncodedFetchVersion); v <= maxEncodedFetchVersion; v++ {
		for _, offset := range []int64{0, 7, 200} {
			raw, resp := rawFetch(t, ts, c, v, "t", offset, 9000)
			require.Equal(t, appendResponse(nil, 5, resp)[4:], raw, "version %d, offset %d", v, offset)
			want, err := store.FetchBatches(ctx, log.TopicPartition{Topic: "t"}, offset, 9000, log.ReadUncommitted)
			require.NoError(t, err)
			require.NotEmpty(t, want.Batches)
			require.Equal(t, want.Batches, resp.Topics[0].Partitions[0].RecordBatches)
			want.Release()
		}
	}
	require.Zero(t, ts.server.FetchStats().CopiedBytes)
}

// TestFetchRetentionAndCompactionDuringTheSend checks that a response whose
// segment is deleted (DeleteRecords, retention) or replaced (compaction) after
// its fields were sent and before its batches are still sends the batches
// fetched, from the file the fetch named.
func TestFetchRetentionAndCompactionDuringTheSend(t *testing.T) {
	store, err := log.Open(t.TempDir(), &log.Options{RetentionCheckInterval: -1})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, store.CreateTopic(ctx, "deleted", log.TopicConfig{Partitions: 1, SegmentBytes: 4 << 10}))
	require.NoError(t, store.CreateTopic(ctx, "compacted", log.TopicConfig{Partitions: 1, SegmentBytes: 4 << 10, CleanupPolicy: log.CleanupCompact, MinCleanableDirtyRatio: 0.01}))
	for i := range 300 {
		for _, topic := range []string{"deleted", "compacted"} {
			batch, err := segment.AppendBatch(nil, []segment.Record{{Timestamp: 1_700_000_000_000, Key: []byte("same key"), Value: fmt.Appendf(nil, "%0100d", i)}}, &segment.BatchOptions{})
			require.NoError(t, err)
			_, err = store.AppendBatch(ctx, log.TopicPartition{Topic: topic}, batch, log.AppendBatchOptions{})
			require.NoError(t, err)
		}
	}
	var mu sync.Mutex
	var hook func()
	ts := serveStore(t, store, nil, func(s *Server) {
		s.beforeSendBatches = func() {
			mu.Lock()
			defer mu.Unlock()
			if hook != nil {
				hook()
				hook = nil
			}
		}
	})
	c := ts.dial(t)
	for _, topic := range []string{"deleted", "compacted"} {
		tp := log.TopicPartition{Topic: topic}
		before, err := store.FetchBatches(ctx, tp, 0, 3000, log.ReadUncommitted)
		require.NoError(t, err)
		want := append([]byte(nil), before.Batches...)
		before.Release()
		mu.Lock()
		hook = func() {
			if topic == "deleted" {
				require.NoError(t, store.AlterTopicConfig(ctx, topic, log.TopicConfig{RetentionBytes: 8 << 10}))
				deleted, err := store.ApplyRetention()
				require.NoError(t, err)
				require.Positive(t, deleted, "retention deletes the segment being sent")
				require.NoError(t, store.DeleteRecords(ctx, tp, 290))
			} else {
				result, err := store.CompactPartition(ctx, tp)
				require.NoError(t, err)
				require.True(t, result.Compacted)
			}
		}
		mu.Unlock()
		sentBefore := ts.server.FetchStats().SentFromFileBytes
		_, resp := rawFetch(t, ts, c, 18, topic, 0, 3000)
		require.Equal(t, want, resp.Topics[0].Partitions[0].RecordBatches, topic)
		require.Equal(t, int64(len(want)), ts.server.FetchStats().SentFromFileBytes-sentBefore, "sent from the file")
		after, err := store.FetchBatches(ctx, tp, 0, 3000, log.ReadUncommitted)
		if err == nil {
			require.NotEqual(t, want, after.Batches, "%s: the segment fetched is gone", topic)
			after.Release()
		} else {
			require.ErrorIs(t, err, log.ErrOffsetOutOfRange)
		}
	}
	require.Zero(t, ts.server.FetchStats().CopiedBytes)
}

// TestFetchWriteBatchesAfterTruncationSendsTheFetchedBytes checks that batches
// whose segment was truncated, and appended to again, after the fetch are sent
// as fetched: from memory (the view the truncation preserved), not from the
// file, whose bytes at those positions are others.
func TestFetchWriteBatchesAfterTruncationSendsTheFetchedBytes(t *testing.T) {
	seg, err := segment.Create(vfs.OS, t.TempDir(), 0, nil)
	require.NoError(t, err)
	defer seg.Close()
	appendValues := func(values ...string) {
		records := make([]segment.Record, len(values))
		for i, v := range values {
			records[i] = segment.Record{Timestamp: 1000, Value: []byte(v)}
		}
		b, err := segment.AppendBatch(nil, records, nil)
		require.NoError(t, err)
		segment.SetBaseOffset(b, seg.NextOffset())
		h, err := segment.VerifyBatch(b, segment.DefaultMaxBatchBytes)
		require.NoError(t, err)
		require.NoError(t, seg.Append(b, &h))
	}
	appendValues("a", "b")
	pos := seg.Size()
	appendValues("c", "d", "e")
	appendValues("f")
	n := int(seg.Size() - pos)
	view, mapping, ok := seg.View(pos, n)
	require.True(t, ok)
	want := append([]byte(nil), view...)
	file, ok := seg.FileRange(pos, n)
	require.True(t, ok)
	held := &heldBatches{result: log.FetchResult{Batches: view, File: file}}
	defer held.result.Release()

	server, err := NewServer(nil, nil)
	require.NoError(t, err)
	server.beforeSendBatches = func() {
		require.NoError(t, seg.TruncateTo(2))
		appendValues("other", "bytes", "here")
		appendValues("and", "more")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	nc, err := ln.Accept()
	require.NoError(t, err)
	received := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		received <- b
	}()
	require.NoError(t, server.writeBatches(nc, newFileSender(nc), held))
	require.NoError(t, nc.Close())
	require.Equal(t, want, <-received)
	require.Equal(t, FetchStats{CopiedBytes: int64(n)}, server.FetchStats(), "written from memory")
	_ = mapping
}
