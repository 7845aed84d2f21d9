package replica

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/stratalog/strata/partition"
)

// HandleFetch serves a follower's fetch: the leader's side of Kafka's replication
// protocol. It checks the follower's leader epoch (KIP-320), tells a follower whose
// last epoch ends earlier on the leader where to truncate (DivergingEpoch), records
// the follower's progress (which may grow the ISR and move the high watermark), and
// returns whole batches from the follower's log end offset, waiting up to
// req.MaxWait for some when there are none yet.
func (r *Replica) HandleFetch(ctx context.Context, req *FetchRequest) (*FetchResponse, error) {
	resp, err := r.handleFetch(ctx, req)
	if err != nil {
		r.checkDisk(err)
	}
	return resp, err
}

// handleFetch is HandleFetch; HandleFetch then checks whether the log failed.
func (r *Replica) handleFetch(ctx context.Context, req *FetchRequest) (*FetchResponse, error) {
	r.mu.Lock()
	if err := r.checkFetchLocked(req); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	r.mu.Unlock()
	if diverging, err := r.divergence(req); err != nil || diverging != nil {
		if err != nil {
			return nil, err
		}
		return &FetchResponse{HighWatermark: r.log.HighWatermark(), LogStartOffset: r.log.StartOffset(), Diverging: diverging}, nil
	}
	if start := r.log.StartOffset(); req.FetchOffset < start {
		// The follower lacks what retention removed here: it starts over at start.
		resp := &FetchResponse{HighWatermark: r.log.HighWatermark(), LogStartOffset: start}
		return resp, errorf("strata/replica: %s: fetch offset %d below the leader's log start offset %d: %w", r.name, req.FetchOffset, start, partition.ErrOffsetOutOfRange)
	}
	if err := r.recordProgress(req); err != nil {
		return nil, err
	}
	maxBytes := req.MaxBytes
	if maxBytes <= 0 {
		maxBytes = r.env.fetchBytes
	}
	var deadline <-chan time.Time
	for {
		changes := r.log.Changes()
		r.mu.Lock()
		roleChanged, leading := r.stateChangedLocked(), r.mu.leading
		r.mu.Unlock()
		if !leading {
			return nil, errorf("strata/replica: %s on broker %d: %w", r.name, r.broker, ErrNotLeader)
		}
		batches, keep, err := r.log.FetchReplicaView(req.FetchOffset, maxBytes)
		if err != nil {
			if errors.Is(err, partition.ErrCorrupt) && r.env.corrupt != nil {
				r.env.corrupt(r.name, r.broker, err)
			}
			return nil, err
		}
		if len(batches) > 0 || req.MaxWait <= 0 {
			return &FetchResponse{HighWatermark: r.log.HighWatermark(), LogStartOffset: r.log.StartOffset(), Batches: batches, keep: keep}, nil
		}
		if deadline == nil {
			timer := time.NewTimer(req.MaxWait)
			defer timer.Stop()
			deadline = timer.C
		}
		select {
		case <-changes:
		case <-roleChanged:
		case <-deadline:
			req.MaxWait = 0 // one last look
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// checkFetchLocked refuses a fetch this replica must not serve.
func (r *Replica) checkFetchLocked(req *FetchRequest) error {
	s := &r.mu.state
	switch {
	case r.mu.closed:
		return ErrClosed
	case !r.mu.leading:
		return errorf("strata/replica: %s on broker %d: %w", r.name, r.broker, ErrNotLeader)
	case req.LeaderEpoch < s.LeaderEpoch:
		return errorf("strata/replica: %s: fetch at leader epoch %d, the leader is at %d: %w", r.name, req.LeaderEpoch, s.LeaderEpoch, ErrFencedLeaderEpoch)
	case req.LeaderEpoch > s.LeaderEpoch:
		return errorf("strata/replica: %s: fetch at leader epoch %d, the leader is at %d: %w", r.name, req.LeaderEpoch, s.LeaderEpoch, ErrUnknownLeaderEpoch)
	case req.Replica == r.broker || !s.Hosts(req.Replica):
		return errorf("strata/replica: %s: broker %d holds no follower replica: %w", r.name, req.Replica, ErrInvalidArgument)
	case req.FetchOffset < 0 || req.DurableOffset > req.FetchOffset:
		return errorf("strata/replica: %s: fetch offset %d, durable offset %d: %w", r.name, req.FetchOffset, req.DurableOffset, ErrInvalidArgument)
	}
	return nil
}

// divergence returns where the follower must truncate, or nil if its log up to its
// fetch offset is a prefix of the leader's: the epoch of its last batch ends on the
// leader at or after its fetch offset (Kafka's Partition.fetchRecords).
func (r *Replica) divergence(req *FetchRequest) (*EpochEnd, error) {
	end := r.log.WrittenOffset()
	if req.LastFetchedEpoch >= 0 {
		epoch, epochEnd, err := r.log.EndOffsetForEpoch(req.LastFetchedEpoch)
		if err != nil {
			return nil, err
		}
		if epoch < req.LastFetchedEpoch || epochEnd < req.FetchOffset {
			return &EpochEnd{Epoch: epoch, EndOffset: epochEnd}, nil
		}
	}
	if req.FetchOffset > end {
		// The follower holds more than the leader (the leader lost an unacknowledged
		// tail, or was elected uncleanly): it truncates to the leader's end.
		latest, ok, err := r.log.LatestEpoch()
		if err != nil {
			return nil, err
		}
		if !ok {
			latest.Epoch = partition.NoEpoch
		}
		return &EpochEnd{Epoch: latest.Epoch, EndOffset: end}, nil
	}
	return nil, nil
}

// recordProgress records a fetch of a follower: its log end and durable offsets and
// whether it is caught up; it may grow the ISR and move the high watermark.
func (r *Replica) recordProgress(req *FetchRequest) error {
	r.mu.Lock()
	if err := r.checkFetchLocked(req); err != nil {
		r.mu.Unlock()
		return err
	}
	p := r.mu.progress[req.Replica]
	switch {
	case req.BrokerEpoch < p.brokerEpoch:
		r.mu.Unlock()
		return errorf("strata/replica: %s: fetch of broker %d at broker epoch %d, it is at %d: %w", r.name, req.Replica, req.BrokerEpoch, p.brokerEpoch, ErrStaleBrokerEpoch)
	case req.BrokerEpoch > p.brokerEpoch:
		// A new incarnation: what the former one fetched says nothing of its log.
		p.brokerEpoch, p.lastFetchEnd = req.BrokerEpoch, -1
	}
	now, leaderEnd := r.env.now(), r.log.WrittenOffset()
	switch {
	case req.FetchOffset >= leaderEnd:
		p.lastCaughtUp = now
	case p.lastFetchEnd >= 0 && req.FetchOffset >= p.lastFetchEnd:
		p.lastCaughtUp = later(p.lastCaughtUp, p.lastFetch)
	}
	p.fetchOffset, p.durable = req.FetchOffset, req.DurableOffset
	p.lastFetch, p.lastFetchEnd = now, leaderEnd
	r.updateHighWatermarkLocked()
	s := r.mu.state
	if s.InSync(req.Replica) || p.joining || !r.caughtUpLocked(p) {
		r.mu.Unlock()
		return nil
	}
	// From now on the high watermark counts the follower as in sync (Kafka's
	// maximal ISR, KIP-497): it must not pass the follower's durable offset while
	// the controller decides, or the follower would join the ISR without records
	// below the high watermark.
	p.joining = true
	r.mu.Unlock()
	err := r.alterISR(s, append(slices.Clone(s.ISR), req.Replica), req.Replica, req.BrokerEpoch)
	r.mu.Lock()
	if !r.mu.state.InSync(req.Replica) {
		p.joining = false
	}
	r.mu.Unlock()
	return err
}

// caughtUpLocked says whether a follower outside the ISR may join it: it holds,
// durably, everything below the high watermark, and has reached the current
// leader epoch (Kafka's isFollowerInSync, with strata's durable offset).
func (r *Replica) caughtUpLocked(p *progress) bool {
	hw := r.log.HighWatermark()
	epochStart, ok, err := r.log.LatestEpoch()
	if err != nil || !ok {
		return false
	}
	return p.durable >= hw && p.fetchOffset >= epochStart.StartOffset
}

// alterISR asks the controller to make isr the ISR of s, adding joining (or
// NoBroker) at broker epoch joiningEpoch; a refusal because the state moved on
// meanwhile is not an error (the new state is applied).
func (r *Replica) alterISR(s State, isr []BrokerID, joining BrokerID, joiningEpoch int64) error {
	err := r.env.alterISR(r.name, s.LeaderEpoch, s.PartitionEpoch, isr, joining, joiningEpoch)
	if errors.Is(err, ErrStaleState) || errors.Is(err, ErrFencedLeaderEpoch) || errors.Is(err, ErrBrokerOffline) {
		return nil
	}
	return err
}

// updateHighWatermark is updateHighWatermarkLocked for a caller without r.mu.
func (r *Replica) updateHighWatermark() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updateHighWatermarkLocked()
}

// updateHighWatermarkLocked moves the high watermark to the lowest offset every ISR
// member holds durably (the leader's own acknowledged offset, and each follower's
// durable offset), while the ISR holds at least MinInsyncReplicas (KIP-966); readers
// and acks=all produces waiting for it are woken.
func (r *Replica) updateHighWatermarkLocked() {
	s := &r.mu.state
	if !r.mu.leading || len(s.ISR) < s.Config.MinInsyncReplicas {
		return
	}
	hw := r.log.AcknowledgedOffset()
	for b, p := range r.mu.progress {
		if !s.InSync(b) && !p.joining {
			continue
		}
		if p.durable < 0 {
			return
		}
		hw = min(hw, p.durable)
	}
	for _, b := range s.ISR {
		if b != r.broker && r.mu.progress[b] == nil {
			return
		}
	}
	before := r.log.HighWatermark()
	if !r.log.Replicated() {
		// A single replica's high watermark is its acknowledged offset.
		if r.env.committed != nil {
			r.env.committed(r.name, before, false)
		}
		return
	}
	if after, err := r.log.SetHighWatermark(hw); err == nil && after > before {
		r.notifyLocked()
		if r.env.committed != nil {
			r.env.committed(r.name, after, false)
		}
	}
}

// shrinkISR removes from the ISR the followers that have not caught up for the
// replica lag time (Kafka's maybeShrinkIsr). The leader calls it periodically.
func (r *Replica) shrinkISR() error {
	r.mu.Lock()
	if !r.mu.leading {
		r.mu.Unlock()
		return nil
	}
	s, now := r.mu.state, r.env.now()
	isr := slices.DeleteFunc(slices.Clone(s.ISR), func(b BrokerID) bool {
		p := r.mu.progress[b]
		return b != r.broker && p != nil && now.Sub(p.lastCaughtUp) > r.env.lagTime
	})
	r.mu.Unlock()
	if len(isr) == len(s.ISR) {
		return nil
	}
	return r.alterISR(s, isr, NoBroker, 0)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// settle waits until the high watermark reaches target, or the replica stops
// leading, or its ISR is below MinInsyncReplicas, or ctx ends.
func (r *Replica) settle(ctx context.Context, target int64) error {
	for {
		r.mu.Lock()
		r.updateHighWatermarkLocked()
		s := &r.mu.state
		done := r.mu.closed || !r.mu.leading || len(s.ISR) < s.Config.MinInsyncReplicas || r.log.HighWatermark() >= target
		ch := r.changedLocked()
		r.mu.Unlock()
		if done {
			return nil
		}
		if err := r.waitChange(ctx, ch); err != nil {
			return err
		}
	}
}
