package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testServer is a store served on a loopback listener.
type testServer struct {
	store  *log.Store
	server *Server
	addr   string
	logs   *syncBuffer
	served chan error // Serve's result
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines to log into.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer opens a store in a temporary directory and serves it on
// 127.0.0.1:0 with opts (nil: defaults); cleanup shuts it down. setup, if not nil,
// may set test hooks before the server starts serving.
func startServer(t testing.TB, opts *Options, setup func(*Server)) *testServer {
	t.Helper()
	store, err := log.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return serveStore(t, store, opts, setup)
}

// serveStore is startServer of an open store, which the cleanup closes.
func serveStore(t testing.TB, store *log.Store, opts *Options, setup func(*Server)) *testServer {
	t.Helper()
	return serveStoreOn(t, store, opts, setup, nil)
}

// serveStoreOn is serveStore on a listener that wrapListener (if not nil) makes
// of the loopback one, a TLS listener for example.
func serveStoreOn(t testing.TB, store *log.Store, opts *Options, setup func(*Server), wrapListener func(net.Listener) net.Listener) *testServer {
	t.Helper()
	var err error
	ts := &testServer{store: store, logs: &syncBuffer{}, served: make(chan error, 1)}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Logger = slog.New(slog.NewTextHandler(ts.logs, nil))
	ts.server, err = NewServer(store, &o)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(ts.server)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrapListener != nil {
		ln = wrapListener(ln)
	}
	ts.addr = ln.Addr().String()
	go func() { ts.served <- ts.server.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := ts.server.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	return ts
}

// client returns a kgo client of ts, closed at cleanup.
func (ts *testServer) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(ts.addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// rawConn is a connection that sends requests and reads responses by hand.
type rawConn struct {
	t  testing.TB
	nc net.Conn
}

func (ts *testServer) dial(t testing.TB) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

// frame returns req framed as a client sends it.
func frame(req kmsg.Request, correlationID int32) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw-test")).AppendRequest(nil, req, correlationID)
}

// send writes bytes to the connection.
func (c *rawConn) send(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// readResponse reads one response and decodes its body as the response to req,
// returning it and its correlation ID.
func (c *rawConn) readResponse(req kmsg.Request) (kmsg.Response, int32) {
	c.t.Helper()
	body, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("reading the response to %s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return decodeResponse(c.t, req, body)
}

func decodeResponse(t testing.TB, req kmsg.Request, body []byte) (kmsg.Response, int32) {
	t.Helper()
	correlationID := int32(binary.BigEndian.Uint32(body))
	body = body[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		body = body[1:] // empty tagged fields
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding %s v%d response: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp, correlationID
}

// roundTrip sends req and returns its response.
func (c *rawConn) roundTrip(req kmsg.Request) kmsg.Response {
	c.t.Helper()
	c.send(frame(req, 7))
	resp, correlationID := c.readResponse(req)
	if correlationID != 7 {
		c.t.Fatalf("correlation ID %d, want 7", correlationID)
	}
	return resp
}

func (c *rawConn) readFrame() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(c.nc, body)
	return body, err
}

// expectClosed checks that the server closed the connection: a read ends with
// EOF (or a reset) rather than a response.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(time.Minute)) // a bound on a hang, not a wait
	var b [1]byte
	n, err := c.nc.Read(b[:])
	if err == nil || n > 0 {
		c.t.Fatalf("the connection is still open: read %d bytes", n)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
		c.t.Fatalf("reading: %v, want EOF", err)
	}
}
