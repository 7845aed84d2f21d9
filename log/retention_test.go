package log_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// retentionEvents records OnRetention calls.
type retentionEvents struct {
	mu     sync.Mutex
	events []log.RetentionEvent
}

func (r *retentionEvents) hook(e log.RetentionEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *retentionEvents) get() []log.RetentionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]log.RetentionEvent(nil), r.events...)
}

func TestApplyRetentionByAge(t *testing.T) {
	clk := &clock{now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	var events retentionEvents
	s := openStore(t, vfs.NewMem(), &log.Options{Now: clk.Now, RetentionCheckInterval: -1, Hooks: log.Hooks{OnRetention: events.hook}})
	createTopic(t, s, "short", log.TopicConfig{RetentionAge: time.Hour, SegmentBytes: 512})
	createTopic(t, s, "forever", log.TopicConfig{SegmentBytes: 512})
	produceInCalls(t, s, "short", 0, 60, 3)
	produceInCalls(t, s, "forever", 0, 60, 3)
	before := describe(t, s, "short").Partitions[0]
	require.Greater(t, before.Segments, 2)

	n, err := s.ApplyRetention()
	require.NoError(t, err)
	require.Zero(t, n, "nothing is an hour old yet")

	clk.Advance(2 * time.Hour)
	n, err = s.ApplyRetention()
	require.NoError(t, err)
	require.Equal(t, before.Segments-1, n, "every sealed segment; never the active one")
	after := describe(t, s, "short").Partitions[0]
	require.Equal(t, 1, after.Segments)
	require.Equal(t, before.EndOffset, after.EndOffset)
	require.Greater(t, after.StartOffset, int64(0))
	require.Equal(t, []log.RetentionEvent{{TopicPartition: tp("short", 0), RetentionEvent: partition.RetentionEvent{SegmentsDeleted: n, StartOffset: after.StartOffset}}}, events.get())
	require.Equal(t, int64(0), describe(t, s, "forever").Partitions[0].StartOffset)

	// A consumer starting from the beginning starts at the new start offset.
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("short", 0))
	require.Equal(t, after.StartOffset, pollN(t, c, 1)[0].Offset)
}

// Retention by size happens as segments roll.
func TestRetentionBySize(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{RetentionCheckInterval: -1})
	createTopic(t, s, "t", log.TopicConfig{RetentionBytes: 2048, SegmentBytes: 512})
	produceInCalls(t, s, "t", 0, 200, 4)
	p := describe(t, s, "t").Partitions[0]
	require.Greater(t, p.StartOffset, int64(0))
	require.LessOrEqual(t, p.Bytes, int64(2048+512))
}

// The store applies retention every RetentionCheckInterval on its own (fake clock:
// synctest).
func TestBackgroundRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events retentionEvents
		s, err := log.Open("/data", &log.Options{FS: vfs.NewMem(), RetentionCheckInterval: time.Minute,
			Hooks: log.Hooks{OnRetention: events.hook}})
		require.NoError(t, err)
		defer s.Close()
		createTopic(t, s, "t", log.TopicConfig{RetentionAge: 30 * time.Second, SegmentBytes: 512})
		produceInCalls(t, s, "t", 0, 60, 3)
		require.Equal(t, int64(0), describe(t, s, "t").Partitions[0].StartOffset)

		time.Sleep(59 * time.Second)
		synctest.Wait()
		require.Empty(t, events.get(), "no check before the interval")
		time.Sleep(time.Second)
		synctest.Wait()
		require.Len(t, events.get(), 1)
		require.Greater(t, describe(t, s, "t").Partitions[0].StartOffset, int64(0))
	})
}
