package kafka

import "time"

// closeIdle closes, every tenth of Options.ConnectionsMaxIdle, the connections
// idle for longer than it (Kafka's connections.max.idle.ms), until the server
// stops. It runs in its own goroutine, started by the first Serve.
func (s *Server) closeIdle() {
	defer close(s.idleDone)
	if s.opts.ConnectionsMaxIdle < 0 {
		return
	}
	ticker := time.NewTicker(max(s.opts.ConnectionsMaxIdle/10, time.Millisecond))
	defer ticker.Stop()
	for {
		select {
		case <-s.draining:
			return
		case <-ticker.C:
			s.closeIdleConns()
		}
	}
}

// closeIdleConns closes every connection that is not handling a request and
// has been idle for longer than Options.ConnectionsMaxIdle. A request that
// arrives as its connection is closed is lost with the connection, as on Kafka;
// the client sends it again on a new one.
func (s *Server) closeIdleConns() {
	if s.opts.ConnectionsMaxIdle < 0 {
		return
	}
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.mu.conns {
		if !c.busy.Load() && time.Duration(now-c.lastActive.Load()) > s.opts.ConnectionsMaxIdle {
			c.idleClosed.Store(true)
			c.nc.Close()
		}
	}
}

// waitIdle waits for the goroutine of closeIdle to end, if it was started; the
// server is stopping, so it will not be started after.
func (s *Server) waitIdle() {
	started := true
	s.idleOnce.Do(func() { started = false })
	if started {
		<-s.idleDone
	}
}
