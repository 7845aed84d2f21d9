package kafka

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// brokersServer is a store of several brokers, each served on its own loopback
// listener by ServeBrokers.
type brokersServer struct {
	store *log.Store
	addrs map[replica.BrokerID]string // each broker's listener
	logs  *syncBuffer
}

// serveEachBroker serves each broker of store on its own listener on
// 127.0.0.1:0 with ServeBrokers and opts (nil: defaults); the cleanup ends it
// (ServeBrokers must return nil) and closes the store.
func serveEachBroker(t testing.TB, store *log.Store, opts *Options) *brokersServer {
	t.Helper()
	bs := &brokersServer{store: store, addrs: map[replica.BrokerID]string{}, logs: &syncBuffer{}}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Logger = slog.New(slog.NewTextHandler(bs.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	brokers, err := store.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	listeners := map[replica.BrokerID]net.Listener{}
	for _, b := range brokers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners[b.ID], bs.addrs[b.ID] = ln, ln.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeBrokers(ctx, listeners, store, &o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeBrokers: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	return bs
}

// seeds returns every broker's address, by id.
func (bs *brokersServer) seeds() []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(bs.addrs)) {
		out = append(out, bs.addrs[id])
	}
	return out
}

// client returns a kgo client seeded with every broker, closed at cleanup. It
// refreshes metadata as soon as it is told to (the default waits 5 s), so that
// a failover is followed without a wait.
func (bs *brokersServer) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(bs.seeds()...), kgo.MetadataMinAge(10 * time.Millisecond)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// dial opens a raw connection to broker id's listener.
func (bs *brokersServer) dial(t testing.TB, id replica.BrokerID) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", bs.addrs[id])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

// listenLoopback returns n listeners on 127.0.0.1:0, closed at cleanup.
func listenLoopback(t testing.TB, n int) []net.Listener {
	t.Helper()
	out := make([]net.Listener, n)
	for i := range out {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		out[i] = ln
	}
	return out
}

// hostPort splits a listener's address for the comparisons of the tests.
func hostPort(t testing.TB, addr string) (string, int32) {
	t.Helper()
	host, port, err := splitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// describePartition returns the store's description of partition p of topic.
func describePartition(t testing.TB, store *log.Store, topic string, p int32) log.PartitionInfo {
	t.Helper()
	d, err := store.DescribeTopic(topic)
	if err != nil {
		t.Fatal(err)
	}
	return d.Partitions[p]
}

// metadataOf asks conn for the metadata of topics at version v.
func metadataOf(c *rawConn, v int16, topics ...string) *kmsg.MetadataResponse {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = v
	for _, name := range topics {
		req.Topics = append(req.Topics, kmsg.MetadataRequestTopic{Topic: kmsg.StringPtr(name)})
	}
	return c.roundTrip(req).(*kmsg.MetadataResponse)
}
