package log_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// storeClock is a settable clock for log.Options.Now.
type storeClock struct{ nanos atomic.Int64 }

func newStoreClock() *storeClock {
	c := &storeClock{}
	c.nanos.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *storeClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *storeClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// consumeView reads both partitions of topic from the beginning up to their end
// offsets and rebuilds the table the topic is a changelog of: the latest value of
// each key, a tombstone deleting it. It also returns how many records it read and how
// many of them were tombstones.
func consumeView(t *testing.T, s *log.Store, topic string, partitions int32) (view map[string]string, records, tombstones int) {
	t.Helper()
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	ends := map[int32]int64{}
	var tps []log.TopicPartition
	for _, ps := range s.Stats().Topics {
		if ps.Name != topic {
			continue
		}
		for _, p := range ps.Partitions {
			ends[p.Partition] = p.EndOffset
			tps = append(tps, p.TopicPartition)
		}
	}
	require.Len(t, tps, int(partitions))
	require.NoError(t, c.Assign(tps...))
	require.NoError(t, c.SeekToBeginning(tps...))
	done := func() bool {
		for _, tp := range tps {
			pos, err := c.Position(tp)
			require.NoError(t, err)
			if pos < ends[tp.Partition] {
				return false
			}
		}
		return true
	}
	view = map[string]string{}
	last := map[int32]int64{0: -1, 1: -1}
	ctx := testContext(t)
	for !done() {
		polled, err := c.Poll(ctx)
		require.NoError(t, err)
		for _, r := range polled {
			require.Greater(t, r.Offset, last[r.Partition], "offsets rise")
			last[r.Partition] = r.Offset
			records++
			if r.Value == nil {
				tombstones++
				delete(view, string(r.Key))
				continue
			}
			view[string(r.Key)] = string(r.Value)
		}
	}
	return view, records, tombstones
}

// TestCompactedTopicChangelog creates a compacted topic, produces updates and
// deletions of a few keys, compacts it, and rebuilds the table from the topic as a
// changelog consumer does: the latest value of every key, with far fewer records to
// read. Tombstones go DeleteRetention later (on the store's clock). The config
// survives a reopen, and so does the compacted log.
func TestCompactedTopicChangelog(t *testing.T) {
	fsys := vfs.NewMem()
	clock := newStoreClock()
	var mu sync.Mutex
	var events []log.CompactionEvent
	opts := &log.Options{Now: clock.Now, RetentionCheckInterval: -1, Hooks: log.Hooks{OnCompaction: func(e log.CompactionEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}}}
	s := openStore(t, fsys, opts)
	config := log.TopicConfig{Partitions: 2, CleanupPolicy: log.CleanupCompact, SegmentBytes: 2048, DeleteRetention: time.Hour,
		MinCleanableDirtyRatio: 0.3, RetentionAge: time.Millisecond} // retention does not apply to "compact"
	createTopic(t, s, "users", config)
	ctx := testContext(t)
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]string{}
	produced := 0
	for i := range 600 {
		key := fmt.Sprintf("user-%d", rng.IntN(25))
		switch {
		case i < 10:
			key = fmt.Sprintf("gone-%d", i) // written once, deleted at 300, never again
		case i >= 300 && i < 310:
			key = fmt.Sprintf("gone-%d", i-300)
		}
		rec := &log.Record{Topic: "users", Key: []byte(key)}
		if rng.IntN(8) == 0 || strings.HasPrefix(key, "gone-") && i >= 300 {
			delete(want, key)
		} else {
			rec.Value = fmt.Appendf(nil, "v%d-%s", i, strings.Repeat("x", rng.IntN(50)))
			want[key] = string(rec.Value)
		}
		require.NoError(t, s.Produce(ctx, rec))
		produced++
	}
	n, err := s.Compact(ctx) // every partition is all dirty
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for p := range int32(2) {
		// A last record per partition, so that a consumer sees each end offset reached.
		rec := &log.Record{Topic: "users", Partition: p, ExplicitPartition: true, Key: fmt.Appendf(nil, "sentinel-%d", p), Value: []byte("s")}
		require.NoError(t, s.Produce(ctx, rec))
		want[string(rec.Key)] = "s"
		produced++
	}
	view, records, tombstones := consumeView(t, s, "users", 2)
	require.Equal(t, want, view)
	require.Less(t, records, produced/3, "compaction removed most of the superseded records")
	require.Greater(t, tombstones, 0, "tombstones stay for DeleteRetention")
	mu.Lock()
	require.Len(t, events, 2)
	require.Equal(t, "users", events[0].Topic)
	require.True(t, events[0].Compacted)
	require.Greater(t, events[0].RecordsRemoved, int64(0))
	mu.Unlock()
	for _, p := range describeStats(t, s, "users") {
		require.Equal(t, uint64(1), p.Compactions)
		require.Equal(t, int64(0), p.StartOffset, "no retention on a compact topic")
	}

	clock.Advance(2 * time.Hour)
	_, err = s.ApplyRetention()
	require.NoError(t, err)
	for p := range int32(2) {
		res, err := s.CompactPartition(ctx, tp("users", p))
		require.NoError(t, err)
		require.True(t, res.Compacted)
		require.Greater(t, res.TombstonesRemoved, int64(0))
	}
	view, _, tombstonesAfter := consumeView(t, s, "users", 2)
	require.Equal(t, want, view)
	require.Less(t, tombstonesAfter, tombstones, "tombstones in the compacted part are gone")

	require.NoError(t, s.Close())
	s = openStore(t, fsys, opts)
	d := describe(t, s, "users")
	require.Equal(t, log.CleanupCompact, d.Config.CleanupPolicy)
	require.Equal(t, time.Hour, d.Config.DeleteRetention)
	require.Equal(t, 0.3, d.Config.MinCleanableDirtyRatio)
	data, err := vfs.ReadFile(fsys, "/data/topics.json")
	require.NoError(t, err)
	require.Contains(t, string(data), `"cleanup.policy": "compact"`)
	require.Contains(t, string(data), `"delete.retention.ms": "3600000"`)
	require.Contains(t, string(data), `"min.cleanable.dirty.ratio": "0.3"`)
	view, _, _ = consumeView(t, s, "users", 2)
	require.Equal(t, want, view)
}

func describeStats(t *testing.T, s *log.Store, topic string) []log.PartitionStats {
	t.Helper()
	for _, ts := range s.Stats().Topics {
		if ts.Name == topic {
			return ts.Partitions
		}
	}
	t.Fatalf("no topic %q in Stats", topic)
	return nil
}

// TestCompactOnlyCompactedTopics: Store.Compact leaves delete topics alone, and
// CompactPartition refuses them.
func TestCompactOnlyCompactedTopics(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{RetentionCheckInterval: -1})
	createTopic(t, s, "plain", log.TopicConfig{SegmentBytes: 1024})
	createTopic(t, s, "both", log.TopicConfig{SegmentBytes: 1024, CleanupPolicy: log.CleanupCompactDelete})
	ctx := testContext(t)
	for i := range 100 {
		for _, topic := range []string{"plain", "both"} {
			require.NoError(t, s.Produce(ctx, &log.Record{Topic: topic, Key: []byte("k"), Value: fmt.Appendf(nil, "%d-%s", i, strings.Repeat("x", 40))}))
		}
	}
	n, err := s.Compact(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = s.CompactPartition(ctx, tp("plain", 0))
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	_, err = s.CompactPartition(ctx, tp("nope", 0))
	require.ErrorIs(t, err, log.ErrUnknownTopic)
	require.Equal(t, uint64(0), describeStats(t, s, "plain")[0].Compactions)
	require.Equal(t, uint64(1), describeStats(t, s, "both")[0].Compactions)
}

// TestCompactInBackground: the store's background loop compacts dirty partitions.
func TestCompactInBackground(t *testing.T) {
	compacted := make(chan log.CompactionEvent, 16)
	s := openStore(t, vfs.NewMem(), &log.Options{RetentionCheckInterval: time.Millisecond, Hooks: log.Hooks{
		OnCompaction: func(e log.CompactionEvent) {
			select {
			case compacted <- e:
			default:
			}
		}}})
	createTopic(t, s, "t", log.TopicConfig{SegmentBytes: 1024, CleanupPolicy: log.CleanupCompact})
	ctx := testContext(t)
	for i := range 100 {
		require.NoError(t, s.Produce(ctx, &log.Record{Topic: "t", Key: []byte("k"), Value: fmt.Appendf(nil, "%d-%s", i, strings.Repeat("x", 40))}))
	}
	select {
	case e := <-compacted:
		require.Equal(t, "t", e.Topic)
		require.Greater(t, e.RecordsRemoved, int64(0))
	case <-ctx.Done():
		t.Fatal("no background compaction")
	}
}

// TestMetadataWithoutCompactionKeys: a topics.json written before compaction existed
// opens, its topics taking the compaction defaults.
func TestMetadataWithoutCompactionKeys(t *testing.T) {
	fsys := vfs.NewMem()
	require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", []byte(`{
  "version": 1,
  "topics": [
    {"name": "orders", "partitions": 1, "config": {"retention.age": "168h0m0s", "cleanup.policy": "delete"}}
  ]
}
`)))
	s := openStore(t, fsys, nil)
	d := describe(t, s, "orders")
	require.Equal(t, log.DefaultDeleteRetention, d.Config.DeleteRetention)
	require.Equal(t, log.DefaultMinCleanableDirtyRatio, d.Config.MinCleanableDirtyRatio)
	require.Equal(t, time.Duration(0), d.Config.MinCompactionLag)
}

// A compacted topic refuses records without a key, as Kafka does, and changes
// nothing.
func TestCompactedTopicRefusesKeylessRecords(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "c", log.TopicConfig{CleanupPolicy: log.CleanupCompact})
	err := s.Produce(context.Background(), &log.Record{Topic: "c", Value: []byte("v")})
	require.ErrorIs(t, err, log.ErrInvalidArgument)
	d, err := s.DescribeTopic("c")
	require.NoError(t, err)
	require.Equal(t, int64(0), d.Partitions[0].EndOffset)
	require.NoError(t, s.Produce(context.Background(), &log.Record{Topic: "c", Key: []byte{}, Value: []byte("v")}), "an empty key is a key")
}
