package log

import (
	"context"
	"slices"
)

// revoked gives partitions up (heartbeat goroutine): it stops reading them, waits
// until the application has finished the records of theirs it was handed (see
// waitProcessed), calls the application's OnRevoked, commits what was processed
// (with auto-commit), and then the partitions leave the consumer. A graceful
// rebalance so redelivers nothing, as in the Java consumer, whose callbacks run in
// poll, and kgo's BlockRebalanceOnPoll. If the wait ends because MaxPollInterval
// passed, the partitions are lost instead (OnLost, no commit), as the member's
// others are.
func (g *GroupConsumer) revoked(tps []TopicPartition) {
	g.onlineMu.Lock()
	if g.revoking == nil {
		g.revoking = map[TopicPartition]bool{}
	}
	for _, tp := range tps {
		g.revoking[tp] = true
	}
	g.onlineMu.Unlock()
	g.withdraw(tps)
	g.waitProcessed(tps)
	if g.expiredNow() {
		// The application stayed away past MaxPollInterval with records of tps in
		// hand: the member leaves the group with its partitions lost (expel), these
		// too. OnRevoked would commit what the application has not finished.
		g.lost(tps)
		return
	}
	if g.opts.OnRevoked != nil {
		g.heartbeating(func() { g.opts.OnRevoked(tps) })
	}
	g.mu.Lock()
	commit := !g.opts.DisableAutoCommit || g.mu.consumeOwes
	g.mu.Unlock()
	if commit {
		offsets := map[TopicPartition]int64{}
		g.mu.Lock()
		for _, tp := range tps {
			if o, ok := g.mu.processed[tp]; ok {
				offsets[tp] = o
			}
		}
		g.mu.Unlock()
		if err := g.commitMap(context.Background(), offsets); err != nil {
			g.s.logger.Warn("commit of revoked partitions failed", "group", g.opts.Group, "err", err)
		}
	}
	g.remove(tps)
}

// withdraw stops reading tps, being revoked: Poll hands out no more of their records.
func (g *GroupConsumer) withdraw(tps []TopicPartition) {
	g.mu.Lock()
	defer g.mu.Unlock()
	current := g.mu.inner.Assignment()
	keep := slices.DeleteFunc(slices.Clone(current), func(tp TopicPartition) bool { return slices.Contains(tps, tp) })
	if len(keep) == len(current) {
		return
	}
	for _, tp := range tps {
		if slices.Contains(current, tp) {
			g.mu.withdrawn[tp] = true
		}
	}
	if err := g.mu.inner.Assign(keep...); err != nil {
		g.s.logger.Error("assign partitions", "group", g.opts.Group, "err", err)
	}
	g.changedLocked()
}

// waitProcessed waits until every record of tps that Poll returned is processed
// (the application called Poll again, or Consume's handler returned for them), the
// consumer closes, or its poll interval expires. Meanwhile the member heartbeats
// (heartbeating), so that it keeps its session however long the application
// takes: the rebalance timeout, and MaxPollInterval, bound the wait instead.
func (g *GroupConsumer) waitProcessed(tps []TopicPartition) {
	g.heartbeating(func() {
		for {
			g.mu.Lock()
			pending := false
			for _, tp := range tps {
				if d, ok := g.mu.delivered[tp]; ok && d > g.mu.processed[tp] {
					pending = true
				}
			}
			progress := g.mu.progress
			g.mu.Unlock()
			if !pending {
				return
			}
			select {
			case <-progress:
			case <-g.stop:
				return
			case <-g.pollExpired():
				return
			}
		}
	})
}
