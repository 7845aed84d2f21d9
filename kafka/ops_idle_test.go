package kafka

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestOpsIdleConnectionsClosed checks Options.ConnectionsMaxIdle on the
// server's clock (a test clock, moved by hand; closeIdleConns called directly
// rather than waiting for its ticker): a connection idle for longer is closed,
// one that sent a request since is kept, and one whose request is being handled
// is kept however long the handling takes.
func TestOpsIdleConnectionsClosed(t *testing.T) {
	var clock atomic.Int64 // the test's clock, Unix nanoseconds
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	entered, release := make(chan struct{}), make(chan struct{})
	ts := startServer(t, &Options{ConnectionsMaxIdle: time.Minute}, func(s *Server) {
		s.now = func() time.Time { return time.Unix(0, clock.Load()) }
		s.beforeHandle = func(key int16) {
			if key == kmsg.Metadata.Int16() { // the busy connection's request
				entered <- struct{}{}
				<-release
			}
		}
	})
	idle, active, busy := ts.dial(t), ts.dial(t), ts.dial(t)
	for _, c := range []*rawConn{idle, active, busy} {
		c.roundTrip(kmsg.NewPtrApiVersionsRequest())
	}
	advance(40 * time.Second)
	active.roundTrip(kmsg.NewPtrApiVersionsRequest())
	busy.send(frame(kmsg.NewPtrMetadataRequest(), 7))
	<-entered
	advance(30 * time.Second) // idle: 70 s since its last request; active: 30 s
	ts.server.closeIdleConns()
	idle.expectClosed()
	active.roundTrip(kmsg.NewPtrApiVersionsRequest())

	advance(10 * time.Minute) // busy has been handling its request all along
	ts.server.closeIdleConns()
	close(release)
	if _, correlationID := busy.readResponse(kmsg.NewPtrMetadataRequest()); correlationID != 7 {
		t.Fatalf("correlation ID %d, want 7", correlationID)
	}
	busy.roundTrip(kmsg.NewPtrApiVersionsRequest()) // idle for 0 s since the response

	advance(61 * time.Second)
	ts.server.closeIdleConns()
	active.expectClosed()
	busy.expectClosed()
}

// TestOpsIdleConnectionsNeverClosedWhenNegative checks that a negative
// ConnectionsMaxIdle keeps idle connections however long they are idle.
func TestOpsIdleConnectionsNeverClosedWhenNegative(t *testing.T) {
	var clock atomic.Int64
	ts := startServer(t, &Options{ConnectionsMaxIdle: -1}, func(s *Server) {
		s.now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	c := ts.dial(t)
	c.roundTrip(kmsg.NewPtrApiVersionsRequest())
	clock.Add(int64(365 * 24 * time.Hour))
	ts.server.closeIdleConns()
	c.roundTrip(kmsg.NewPtrApiVersionsRequest())
}

// TestOpsIdleConnectionsClosedByTicker checks that the server's own goroutine
// closes an idle connection, with a short ConnectionsMaxIdle on the real clock:
// the test waits for the close (an event), not for a time.
func TestOpsIdleConnectionsClosedByTicker(t *testing.T) {
	ts := startServer(t, &Options{ConnectionsMaxIdle: 50 * time.Millisecond}, nil)
	c := ts.dial(t)
	c.roundTrip(kmsg.NewPtrApiVersionsRequest())
	c.expectClosed()
}
