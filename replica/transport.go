package replica

import (
	"context"
	"sync"
	"time"
)

// FetchRequest is a follower's fetch from its leader: Kafka's Fetch (v12+) for one
// partition, from a replica. The follower asks for what follows its log end offset,
// says which leader epoch it believes current (KIP-320) and the epoch of its last
// batch (so that the leader can tell it where their logs diverge, KIP-595's
// DivergingEpoch), and reports how far its log is durable: strata counts a
// follower's durable offset, not its log end offset, toward the high watermark.
type FetchRequest struct {
	Partition        string
	Replica          BrokerID // the follower
	LeaderEpoch      int32    // the leader epoch the follower believes current
	FetchOffset      int64    // the follower's log end offset
	LastFetchedEpoch int32    // the leader epoch of the follower's last batch, or NoEpoch
	DurableOffset    int64    // the follower's acknowledged offset (durable under its sync policy)
	BrokerEpoch      int64    // the follower's broker epoch: it grows at each start of the broker (KIP-903)
	MaxBytes         int      // at least one batch is returned whatever its size
	MaxWait          time.Duration
}

// FetchResponse is the leader's answer.
type FetchResponse struct {
	// HighWatermark and LogStartOffset are the leader's.
	HighWatermark  int64
	LogStartOffset int64
	// Diverging, if set, says the follower's log diverges from the leader's: the
	// leader's log ends epoch Diverging.Epoch at Diverging.EndOffset, and the follower
	// must truncate there (or lower, at its own end of that epoch) before fetching
	// again. Batches is empty then.
	Diverging *EpochEnd
	// Batches are whole record batches from FetchOffset, as on the leader's disk.
	// They may be a view of the leader's memory-mapped segment: read-only, and
	// valid as long as the response is reachable. A Transport that carries them
	// elsewhere copies them.
	Batches []byte
	// keep keeps the leader's mapping that Batches is a view of.
	keep any
}

// EpochEnd is where a leader epoch ends in a log: Kafka's EpochEndOffset.
type EpochEnd struct {
	Epoch     int32
	EndOffset int64
}

// Transport carries follower fetches between brokers. Fetch sends req from broker
// from to broker to and returns the answer; an error that is not one of the
// replica layer's (ErrNotLeader, ErrFencedLeaderEpoch, ...) means the link or the
// broker failed, and the follower retries later. One error comes with an answer:
// partition.ErrOffsetOutOfRange, for a fetch below the leader's log start offset,
// with the leader's LogStartOffset (the follower starts over there).
// Implementations must be safe for concurrent use.
type Transport interface {
	Fetch(ctx context.Context, from, to BrokerID, req *FetchRequest) (*FetchResponse, error)
}

// Handler serves the fetches sent to one broker.
type Handler interface {
	HandleFetch(ctx context.Context, req *FetchRequest) (*FetchResponse, error)
}

// Network is the in-process Transport: it calls the handler registered for the
// destination broker directly. For tests it can cut the link between two brokers
// (both directions), delay every fetch on a link, or fail a number of them.
type Network struct {
	mu       sync.Mutex
	handlers map[BrokerID]Handler
	cut      map[link]bool
	delay    map[link]time.Duration
	drop     map[link]int
	after    func(time.Duration) <-chan time.Time
}

type link struct{ a, b BrokerID }

func linkOf(a, b BrokerID) link {
	if a > b {
		a, b = b, a
	}
	return link{a, b}
}

// NewNetwork returns an empty in-process network. after waits for a delay (nil:
// time.After); tests pass a fake clock's.
func NewNetwork(after func(time.Duration) <-chan time.Time) *Network {
	if after == nil {
		after = time.After
	}
	return &Network{handlers: map[BrokerID]Handler{}, cut: map[link]bool{}, delay: map[link]time.Duration{}, drop: map[link]int{}, after: after}
}

// Register makes h serve the fetches sent to broker id (nil: none, as for a stopped
// broker).
func (n *Network) Register(id BrokerID, h Handler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if h == nil {
		delete(n.handlers, id)
		return
	}
	n.handlers[id] = h
}

// Cut cuts (or, with cut false, heals) the link between brokers a and b.
func (n *Network) Cut(a, b BrokerID, cut bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[linkOf(a, b)] = cut
}

// Delay delays every fetch between a and b by d (0: none).
func (n *Network) Delay(a, b BrokerID, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.delay[linkOf(a, b)] = d
}

// Drop fails the next count fetches between a and b.
func (n *Network) Drop(a, b BrokerID, count int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.drop[linkOf(a, b)] += count
}

// Fetch implements Transport.
func (n *Network) Fetch(ctx context.Context, from, to BrokerID, req *FetchRequest) (*FetchResponse, error) {
	l := linkOf(from, to)
	n.mu.Lock()
	h, cut, delay := n.handlers[to], n.cut[l], n.delay[l]
	dropped := n.drop[l] > 0
	if dropped {
		n.drop[l]--
	}
	n.mu.Unlock()
	switch {
	case cut:
		return nil, errorf("strata/replica: link %d-%d cut: %w", from, to, ErrBrokerOffline)
	case dropped:
		return nil, errorf("strata/replica: fetch %d->%d dropped: %w", from, to, ErrBrokerOffline)
	case h == nil:
		return nil, errorf("strata/replica: broker %d: %w", to, ErrBrokerOffline)
	}
	if delay > 0 {
		select {
		case <-n.after(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.HandleFetch(ctx, req)
}
