package log

import (
	"context"
	"time"
)

// startRun starts the heartbeat goroutine of a new membership, unless the
// consumer is closing (false): under the run lock, with which Close closes stop,
// so that every goroutine is started before Close waits for them.
func (g *GroupConsumer) startRun() bool {
	g.run.Lock()
	defer g.run.Unlock()
	select {
	case <-g.stop:
		return false
	default:
	}
	ctx, cancel := context.WithCancel(g.ctx)
	done := make(chan struct{})
	g.run.cancel, g.run.done = cancel, done
	g.done.Go(func() {
		defer close(done)
		if err := g.member.RunUntil(ctx, g.stop, g.opts.HeartbeatInterval); err != nil && ctx.Err() == nil {
			g.stopped(err)
		}
	})
	return true
}

// waitRun waits for the current heartbeat goroutine to return.
func (g *GroupConsumer) waitRun() {
	g.run.Lock()
	done := g.run.done
	g.run.Unlock()
	<-done
}

// enterPoll records that the application is in Poll; a consumer put out of the
// group by MaxPollInterval joins again.
func (g *GroupConsumer) enterPoll() {
	g.mu.Lock()
	g.mu.away = false
	rejoin := isClosed(g.mu.expired)
	if rejoin {
		g.mu.expired = make(chan struct{})
	}
	g.mu.Unlock()
	g.signalPollActivity()
	if rejoin && g.startRun() {
		g.s.logger.Info("group consumer polls again: rejoining", "group", g.opts.Group)
	}
}

// leavePoll records that the application left Poll: MaxPollInterval runs from now.
func (g *GroupConsumer) leavePoll() {
	g.mu.Lock()
	g.mu.away, g.mu.awaySince = true, time.Now()
	g.mu.Unlock()
	g.signalPollActivity()
}

func (g *GroupConsumer) signalPollActivity() {
	select {
	case g.pollActivity <- struct{}{}:
	default:
	}
}

// pollExpired returns a channel closed once the application stayed away from
// Poll longer than MaxPollInterval.
func (g *GroupConsumer) pollExpired() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.expired
}

// expiredNow reports whether the application stayed away from Poll longer than
// MaxPollInterval (and has not polled since).
func (g *GroupConsumer) expiredNow() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return isClosed(g.mu.expired)
}

// pollWatchdog puts the consumer out of the group when the application stays away
// from Poll longer than MaxPollInterval (Kafka's heartbeat thread does the same).
func (g *GroupConsumer) pollWatchdog(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		g.mu.Lock()
		away, since, expired := g.mu.away, g.mu.awaySince, isClosed(g.mu.expired)
		g.mu.Unlock()
		var fire <-chan time.Time
		if away && !expired {
			wait := time.Until(since.Add(g.opts.MaxPollInterval))
			if wait <= 0 {
				g.expel()
				continue
			}
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-g.stop:
			return
		case <-g.pollActivity:
		case <-fire:
		}
	}
}

// expel takes the consumer out of the group after its application missed
// MaxPollInterval: a revocation waiting for the application gives up, the
// heartbeat goroutine stops, and the member leaves the group, its partitions lost.
func (g *GroupConsumer) expel() {
	g.s.logger.Warn("group consumer leaves its group: the application did not poll within MaxPollInterval",
		"group", g.opts.Group, "max_poll_interval", g.opts.MaxPollInterval)
	// The heartbeat goroutine to stop is taken with expired closed, in one step:
	// a Poll that sees expired closed starts a new one (enterPoll), which must
	// not be the one stopped here while the old one runs on.
	g.run.Lock()
	g.mu.Lock()
	close(g.mu.expired)
	g.mu.Unlock()
	cancel, done := g.run.cancel, g.run.done
	g.run.Unlock()
	cancel()
	<-done
	ctx, cancelLeave := context.WithTimeout(g.ctx, closeTimeout)
	defer cancelLeave()
	if err := g.member.LeaveLost(ctx); err != nil {
		g.s.logger.Warn("leave group after MaxPollInterval", "group", g.opts.Group, "err", err)
	}
}

// isClosed reports whether ch is closed.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
