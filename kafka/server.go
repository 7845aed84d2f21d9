package kafka

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
)

// Server serves a log.Store over Kafka's wire protocol on any number of
// listeners. Each connection's requests are answered one at a time, in the order
// they came, as a Kafka broker answers them.
//
// Serve, Shutdown and Close may be called from any goroutine.
type Server struct {
	store  *log.Store
	opts   Options
	ctx    context.Context // ends when the server is closed, ending handlers
	cancel context.CancelFunc
	// closing is set by Shutdown and Close: connections finish the request they
	// are handling and end, Serve returns ErrServerClosed.
	closing atomic.Bool
	// draining is closed by Shutdown and Close: long polls (Fetch waiting for
	// MinBytes) answer at once with what there is.
	draining  chan struct{}
	drainOnce sync.Once
	conns     sync.WaitGroup // one per connection goroutine
	// idleOnce starts the goroutine that closes idle connections (closeIdle), at
	// the first Serve; idleDone is closed when it has ended.
	idleOnce sync.Once
	idleDone chan struct{}

	mu struct {
		sync.Mutex
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
		// brokers is the listener of each broker served by ServeBroker, for
		// the addresses other brokers advertise it at.
		brokers map[replica.BrokerID]brokerListener
	}

	// fetchSessions are the fetch sessions (KIP-227) of every connection
	// (fetch_session.go).
	fetchSessions fetchSessionCache

	// now is the clock of idle connections and fetch sessions: time.Now, or a
	// test's clock.
	now func() time.Time

	// fetchStats counts how Fetch responses' batches were written (fetch_write.go).
	fetchStats fetchCounters

	// Test hooks, nil outside tests: beforeHandle runs after a request is decoded
	// and before it is handled; shutdownWaiting when Shutdown has stopped accepting
	// and starts waiting for connections; beforeSendBatches before a Fetch
	// response's batches of a partition are written, its fields before them sent.
	beforeHandle      func(key int16)
	shutdownWaiting   func()
	beforeSendBatches func()
	// fetchWrite, set by benchmarks, writes Fetch responses another way
	// (fetch_write.go): 0 is the server's.
	fetchWrite fetchWriteMode
}

// NewServer returns a server of store configured by opts (nil: defaults). The
// caller keeps owning store: the server never closes it, and store must outlive
// the server.
func NewServer(store *log.Store, opts *Options) (*Server, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{store: store, opts: o, now: time.Now, idleDone: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.draining = make(chan struct{})
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[*conn]struct{}{}
	s.mu.brokers = map[replica.BrokerID]brokerListener{}
	return s, nil
}

// Serve serves store on ln until ctx is done, then shuts down gracefully (see
// Server.Shutdown) and returns nil; it returns any other error of the listener.
// ln is closed on return.
func Serve(ctx context.Context, ln net.Listener, store *log.Store, opts *Options) error {
	s, err := NewServer(store, opts)
	if err != nil {
		ln.Close()
		return err
	}
	served := make(chan struct{})
	shutdown := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
			shutdown <- s.Shutdown(context.Background())
		case <-served:
			shutdown <- s.Close()
		}
	}()
	err = s.Serve(ln)
	close(served)
	shutdownErr := <-shutdown
	if errors.Is(err, ErrServerClosed) {
		return shutdownErr
	}
	return err
}

// Serve accepts connections on ln and serves each in its own goroutine until the
// server is shut down, when it returns ErrServerClosed; it returns any other
// error of ln.Accept. ln is closed on return.
func (s *Server) Serve(ln net.Listener) error {
	return s.serveListener(ln, nil)
}

// serveListener is Serve of the whole store (broker nil) or of one broker.
func (s *Server) serveListener(ln net.Listener, broker *log.ServingBroker) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	s.idleOnce.Do(func() { go s.closeIdle() })
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // as net/http: back off and retry
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if broker != nil && !broker.Online() { // a stopped broker answers nothing
			resetConn(nc)
			nc.Close()
			continue
		}
		c := s.newConn(nc, broker)
		if !s.addConn(c) {
			nc.Close()
			return ErrServerClosed
		}
		go s.serveConn(c)
	}
}

// Shutdown shuts the server down gracefully: it stops accepting connections,
// closes idle ones, lets every request being handled finish and its response be
// written, then closes those connections. If ctx ends first, it closes them all at
// once (ending the handlers' contexts) and returns ctx.Err(). The store stays open.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	if s.shutdownWaiting != nil {
		s.shutdownWaiting()
	}
	done := make(chan struct{})
	go func() {
		s.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		s.waitIdle()
		return nil
	case <-ctx.Done():
		s.closeConns()
		<-done
		s.waitIdle()
		return ctx.Err()
	}
}

// Close closes the server at once: its listeners and every connection, requests
// in flight included. It waits for the connections' goroutines to end.
func (s *Server) Close() error {
	s.stop()
	s.closeConns()
	s.conns.Wait()
	s.waitIdle()
	return nil
}

// stop marks the server closing, closes its listeners and wakes every connection
// waiting for a request, which then ends; a connection handling a request ends
// once it has written the response.
func (s *Server) stop() {
	s.closing.Store(true)
	s.drainOnce.Do(func() { close(s.draining) })
	s.mu.Lock()
	defer s.mu.Unlock()
	for ln := range s.mu.listeners {
		ln.Close()
	}
	for c := range s.mu.conns {
		// A read deadline in the past ends a read in progress and any later one;
		// a connection checks closing before each request, so none is started.
		c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

// closeConns ends the server's context and closes every connection.
func (s *Server) closeConns() {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.mu.conns {
		c.nc.Close()
	}
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.mu.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.listeners, ln)
	ln.Close()
}

// addConn registers c and counts its goroutine, unless the server is closing.
func (s *Server) addConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.mu.conns[c] = struct{}{}
	s.conns.Add(1)
	return true
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.conns, c)
}
