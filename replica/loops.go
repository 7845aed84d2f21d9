package replica

import (
	"errors"
	"maps"
	"slices"
	"time"
)

// followLoop is a follower's fetch loop: fetch, append, again; while the replica
// leads or its partition has no leader, it waits for the state to change, and a
// leader moves its high watermark whenever its log changes (a background fsync
// acknowledges what acks=leader wrote); after a failed fetch it backs off. It ends
// when the replica or the cluster closes.
func (c *Cluster) followLoop(r *Replica) {
	defer c.wg.Done()
	for {
		r.mu.Lock()
		changed, closed, leading := r.stateChangedLocked(), r.mu.closed, r.mu.leading
		r.mu.Unlock()
		if closed || c.ctx.Err() != nil {
			return
		}
		var logChanged <-chan struct{}
		if leading && r.log.Err() == nil {
			logChanged = r.log.Changes() // before the round reads the offsets
		}
		err := r.fetchOnce(c.ctx, c.opts.FetchMaxWait)
		switch {
		case err == nil:
			continue
		case errors.Is(err, ErrClosed) || c.ctx.Err() != nil:
			return
		case errors.Is(err, errNotFollowing), errors.Is(err, ErrFencedLeaderEpoch):
			// Wait for the new state: this replica's is not current; or, leading,
			// for a change of the log.
			select {
			case <-changed:
			case <-logChanged:
			case <-c.ctx.Done():
				return
			}
		default:
			// Among others ErrNotLeader: the leader this replica's state names has
			// not applied that state yet (a Cluster applies it to one replica at a
			// time), and this replica's state may not change again: retry.
			select {
			case <-changed:
			case <-time.After(c.opts.RetryBackoff):
			case <-c.ctx.Done():
				return
			}
		}
	}
}

// isrLoop checks every leader's ISR for lagging followers, twice per lag time.
func (c *Cluster) isrLoop() {
	defer c.wg.Done()
	t := time.NewTicker(max(c.opts.ReplicaLagTime/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.checkISRs()
		c.placeAll()
	}
}

// placeAll places the replicas of every partition that lacks one on an online
// broker its state gives it (a replica a reassignment added whose open failed),
// or holds one its state no longer gives it.
func (c *Cluster) placeAll() {
	c.mu.Lock()
	partitions := slices.Collect(maps.Values(c.mu.partitions))
	online := maps.Clone(c.mu.online)
	c.mu.Unlock()
	for _, p := range partitions {
		s := p.State()
		replicas := p.Replicas()
		misplaced := false
		for _, b := range s.Replicas {
			if online[b] && replicas[b] == nil {
				misplaced = true
			}
		}
		for b := range replicas {
			if !s.Hosts(b) {
				misplaced = true
			}
		}
		if misplaced {
			c.place(p.name)
		}
	}
}

// checkISRs shrinks the ISR of every partition whose leader has lagging followers.
func (c *Cluster) checkISRs() {
	c.mu.Lock()
	partitions := make([]*Partition, 0, len(c.mu.partitions))
	for _, p := range c.mu.partitions {
		partitions = append(partitions, p)
	}
	c.mu.Unlock()
	for _, p := range partitions {
		if r, err := p.Leader(); err == nil {
			if err := r.shrinkISR(); err != nil {
				c.opts.Logger.Warn("ISR shrink failed", "partition", p.name, "err", err)
			}
		}
	}
}

// rebalanceLoop moves leadership back to the preferred replicas every
// LeaderRebalanceInterval.
func (c *Cluster) rebalanceLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.LeaderRebalanceInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		if n, err := c.ElectPreferred(); err != nil {
			c.opts.Logger.Warn("leader rebalance failed", "err", err)
		} else if n > 0 {
			c.opts.Logger.Info("leadership back to preferred replicas", "partitions", n)
		}
	}
}
