package kafka

import (
	"net"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// idleConnectionsBound is issue 15's goal: 1,000 idle client connections cost at
// most 100 MiB.
const idleConnectionsBound = 100 << 20

// TestOpsThousandIdleConnectionsMemory opens 1,000 connections that each made
// an ApiVersions round trip and stay open, and measures how much the process's
// heap and goroutine stacks grew (after a GC, before and after): the server's
// connection, goroutine and buffers, and also the test's own client side of
// each socket, so the figure is an upper bound of the server's cost.
func TestOpsThousandIdleConnectionsMemory(t *testing.T) {
	const connections = 1000
	ts := startServer(t, nil, nil)
	perConnection := idleConnectionsCost(t, ts, connections)
	total := perConnection * connections
	t.Logf("%d idle connections: %.1f KiB each, %.1f MiB in all (bound %d MiB)",
		connections, perConnection/1024, total/(1<<20), idleConnectionsBound>>20)
	if total > idleConnectionsBound {
		t.Errorf("%d idle connections cost %.1f MiB, want at most %d MiB", connections, total/(1<<20), idleConnectionsBound>>20)
	}
}

// idleConnectionsCost opens n connections to ts, each with an ApiVersions round
// trip, and returns the growth of heap and stacks per connection, in bytes. The
// connections stay open until the test ends.
func idleConnectionsCost(t testing.TB, ts *testServer, n int) float64 {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	before := inUse()
	for range n {
		c := ts.dial(t)
		c.roundTrip(kmsg.NewPtrApiVersionsRequest())
		conns = append(conns, c.nc)
	}
	after := inUse()
	runtime.KeepAlive(conns)
	return float64(after-before) / float64(n)
}

// inUse returns the bytes of live heap objects and of goroutine stacks, after a
// garbage collection.
func inUse() int64 {
	runtime.GC()
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return int64(stats.HeapAlloc + stats.StackInuse)
}

// BenchmarkOpsIdleConnections reports the memory of one idle connection
// (bytes/conn, as TestOpsThousandIdleConnectionsMemory measures it) over b.N
// connections.
func BenchmarkOpsIdleConnections(b *testing.B) {
	ts := startServer(b, nil, nil)
	b.ReportMetric(idleConnectionsCost(b, ts, b.N), "bytes/conn")
}
