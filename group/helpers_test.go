package group

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testTimeout bounds every wait of a test, so that a bug fails instead of hanging.
const testTimeout = 20 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testMetadata is a Metadata whose topics tests set.
type testMetadata struct {
	mu     sync.Mutex
	counts map[string]int
	ends   map[TopicPartition]int64
}

func newTestMetadata(counts map[string]int) *testMetadata {
	return &testMetadata{counts: maps.Clone(counts), ends: make(map[TopicPartition]int64)}
}

func (m *testMetadata) Partitions(topic string) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.counts[topic]
	return n, ok
}

func (m *testMetadata) EndOffset(tp TopicPartition) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	end, ok := m.ends[tp]
	return end, ok
}

func (m *testMetadata) setPartitions(topic string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n < 0 {
		delete(m.counts, topic)
		return
	}
	m.counts[topic] = n
}

func (m *testMetadata) setEnd(tp TopicPartition, end int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ends[tp] = end
}

// testCoordinator is a coordinator on a fake clock, with metadata the test controls.
type testCoordinator struct {
	*Coordinator
	clock    *fakeClock
	metadata *testMetadata
	store    OffsetStore
}

func newTestCoordinator(t testing.TB, opts *Options) *testCoordinator {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	clock := newFakeClock()
	md := newTestMetadata(map[string]int{"orders": 4, "payments": 2})
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.Metadata == nil {
		o.Metadata = md
	}
	if o.Offsets == nil {
		o.Offsets = NewMemoryOffsetStore()
	}
	c, err := NewCoordinator(&o)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &testCoordinator{Coordinator: c, clock: clock, metadata: md, store: o.Offsets}
}

// pending captures the answer to a call that answers through a callback.
type pending[T any] struct {
	mu    sync.Mutex
	done  bool
	value T
	err   error
	calls int
}

func (p *pending[T]) respond(v T, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.value, p.err = true, v, err
	p.calls++
}

// result returns the answer, failing the test if there is none yet.
func (p *pending[T]) result(t testing.TB) (T, error) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	require.True(t, p.done, "no response yet")
	require.Equal(t, 1, p.calls, "responded more than once")
	return p.value, p.err
}

func (p *pending[T]) answered() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// join sends a JoinGroup and returns its pending answer.
func (c *testCoordinator) join(req JoinRequest) *pending[JoinResponse] {
	p := &pending[JoinResponse]{}
	c.JoinGroup(req, p.respond)
	return p
}

// sync sends a SyncGroup and returns its pending answer.
func (c *testCoordinator) sync(req SyncRequest) *pending[SyncResponse] {
	p := &pending[SyncResponse]{}
	c.SyncGroup(req, p.respond)
	return p
}

// consumerJoin is the JoinGroup of a consumer subscribed to topics with the given
// assignors (default range).
func consumerJoin(group, memberID string, topics []string, assignors ...string) JoinRequest {
	if len(assignors) == 0 {
		assignors = []string{AssignorRange}
	}
	req := JoinRequest{
		Group:            group,
		MemberID:         memberID,
		ClientID:         "client",
		ProtocolType:     ProtocolTypeConsumer,
		SessionTimeout:   10 * time.Second,
		RebalanceTimeout: 30 * time.Second,
	}
	for _, a := range assignors {
		req.Protocols = append(req.Protocols, Protocol{Name: a, Metadata: EncodeSubscription(Subscription{Topics: topics, Generation: -1})})
	}
	return req
}

// tp is shorthand for a TopicPartition.
func tp(topic string, partition int32) TopicPartition {
	return TopicPartition{Topic: topic, Partition: partition}
}

// tps builds a sorted list of partitions of one topic.
func tps(topic string, partitions ...int32) []TopicPartition {
	out := make([]TopicPartition, len(partitions))
	for i, p := range partitions {
		out[i] = tp(topic, p)
	}
	return out
}
