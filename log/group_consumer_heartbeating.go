package log

import "time"

// heartbeating runs f on the heartbeat goroutine (an application's rebalance
// callback, with what goes with it), keeping the member's session alive
// meanwhile, since that goroutine heartbeats only between steps: as the Java
// consumer's heartbeat thread goes on while poll runs the callbacks. It stops
// after MaxPollInterval, the bound Kafka puts on them: a callback that takes
// longer lets the session lapse, and the group gives the member's partitions to
// the others.
func (g *GroupConsumer) heartbeating(f func()) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(g.opts.HeartbeatInterval)
		defer ticker.Stop()
		limit := time.NewTimer(g.opts.MaxPollInterval)
		defer limit.Stop()
		for {
			select {
			case <-stop:
				return
			case <-limit.C:
				g.s.logger.Warn("a rebalance callback runs longer than MaxPollInterval: no more heartbeats for it", "group", g.opts.Group)
				return
			case <-ticker.C:
				if err := g.member.KeepAlive(); err != nil {
					g.s.logger.Debug("heartbeat during a rebalance callback", "group", g.opts.Group, "err", err)
				}
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	f()
}
