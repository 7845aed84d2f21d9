package txn

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

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

var errMarkerWrite = errors.New("marker write failed")

// markerLog records the markers written, per partition in order, and fails every
// write once failAfter more have succeeded (failAfter < 0: never fails).
type markerLog struct {
	mu        sync.Mutex
	written   map[TopicPartition][]Marker
	failAfter int
}

func newMarkerLog() *markerLog {
	return &markerLog{written: make(map[TopicPartition][]Marker), failAfter: -1}
}

func (l *markerLog) WriteMarker(ctx context.Context, m Marker) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failAfter == 0 {
		return errMarkerWrite
	}
	if l.failAfter > 0 {
		l.failAfter--
	}
	l.written[m.Partition] = append(l.written[m.Partition], m)
	return nil
}

func (l *markerLog) setFailAfter(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failAfter = n
}

// last returns the last marker written to tp, if any.
func (l *markerLog) last(tp TopicPartition) (Marker, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ms := l.written[tp]
	if len(ms) == 0 {
		return Marker{}, false
	}
	return ms[len(ms)-1], true
}

// harness is a coordinator over a MemoryLog that a test can restart.
type harness struct {
	t       *testing.T
	ctx     context.Context
	clock   *fakeClock
	log     *MemoryLog
	markers *markerLog
	blocks  *MemoryBlockStore
	c       *Coordinator
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, ctx: context.Background(), clock: newFakeClock(), log: &MemoryLog{}, markers: newMarkerLog(), blocks: &MemoryBlockStore{}}
	h.restart()
	return h
}

// restart opens a new coordinator on the same log, markers and block store, as a
// process restarted after a crash would.
func (h *harness) restart() {
	ids, err := NewBlockAllocator(h.blocks, 10)
	require.NoError(h.t, err)
	h.c, err = Open(h.ctx, &Options{Log: h.log, Markers: h.markers, ProducerIDs: ids, Now: h.clock.Now})
	require.NoError(h.t, err)
}

func (h *harness) init(id string) ProducerIDAndEpoch {
	p, err := h.c.InitProducerID(h.ctx, id, time.Minute, nil)
	require.NoError(h.t, err)
	return p
}

func (h *harness) add(id string, p ProducerIDAndEpoch, tps ...TopicPartition) {
	require.NoError(h.t, h.c.AddPartitionsToTxn(h.ctx, id, p, tps))
}

func (h *harness) end(id string, p ProducerIDAndEpoch, commit bool) EndTxnResult {
	r, err := h.c.EndTxn(h.ctx, id, p, commit)
	require.NoError(h.t, err)
	return r
}

func (h *harness) state(id string) Metadata {
	md, err := h.c.Describe(id)
	require.NoError(h.t, err)
	return md
}

func tp(topic string, partition int32) TopicPartition {
	return TopicPartition{Topic: topic, Partition: partition}
}
