package kafka

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// conn is one client connection. Its goroutine reads a request, handles it,
// writes the response and only then reads the next, so that responses go out in
// request order (Kafka mutes a connection the same way while a request is in
// flight).
type conn struct {
	nc net.Conn
	// broker is the broker the connection's listener serves (ServeBroker), nil
	// for the whole store (Serve).
	broker         *log.ServingBroker
	advertisedHost string
	advertisedPort int32
	out            []byte // the response buffer, reused while small
	// lastActive is when the last request was answered (just before its
	// response is written) or the connection accepted, in the server's clock's Unix nanoseconds; busy is set while a
	// request is handled. Idle connections are closed from them (closeIdle).
	lastActive atomic.Int64
	busy       atomic.Bool
	idleClosed atomic.Bool // closed for being idle
	// sasl is the connection's authentication, when Options.SASL asks for one.
	sasl saslState
	// closeAfterResponse, set by a handler, closes the connection once the
	// response is written, or at once for a request without a response (a
	// failed authentication, a failed Produce with acks=0, as Kafka does); it
	// is what the connection's end is logged with.
	closeAfterResponse error
}

// maxUnauthenticatedRequestBytes bounds a request before the connection has
// authenticated, when SASL is on: Kafka's sasl.server.max.receive.size, 512 KiB.
const maxUnauthenticatedRequestBytes = 512 << 10

// maxKeptResponseBuffer is the largest response buffer a connection keeps for
// the next response; a larger one is left to the garbage collector.
const maxKeptResponseBuffer = 64 << 10

func (s *Server) newConn(nc net.Conn, broker *log.ServingBroker) *conn {
	c := &conn{nc: nc, broker: broker}
	c.lastActive.Store(s.now().UnixNano())
	if broker != nil {
		c.advertisedHost, c.advertisedPort, _ = s.brokerEndpoint(broker.ID(), nc)
		return c
	}
	addr := s.opts.AdvertisedAddr
	if addr == "" {
		addr = nc.LocalAddr().String() // the address this client reached
	}
	if host, port, err := splitHostPort(addr); err == nil {
		c.advertisedHost, c.advertisedPort = host, port
	}
	return c
}

// serveConn serves c until the client closes it, it breaks the protocol, or the
// server shuts down.
func (s *Server) serveConn(c *conn) {
	defer s.conns.Done()
	defer s.removeConn(c)
	defer c.nc.Close()
	logger := s.opts.Logger.With("remote", c.nc.RemoteAddr().String())
	for !s.closing.Load() {
		if err := s.serveRequest(c); err != nil {
			switch {
			case c.idleClosed.Load():
				logger.Debug("closed idle connection", "connections.max.idle", s.opts.ConnectionsMaxIdle)
			case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, net.ErrClosed):
			case errors.Is(err, errBrokerStopped):
				resetConn(c.nc)
				logger.Debug("closing connection: " + err.Error())
			case errors.Is(err, ErrRequestTooLarge):
				logger.Warn("closing connection: " + err.Error())
			default:
				logger.Warn("closing connection", "err", err)
			}
			return
		}
	}
}

// serveRequest reads, handles and answers one request of c. Any error closes c.
func (s *Server) serveRequest(c *conn) (err error) {
	maxBytes := s.opts.MaxRequestBytes
	if s.opts.SASL != nil && !c.sasl.authenticated {
		maxBytes = min(maxBytes, maxUnauthenticatedRequestBytes)
	}
	frame, err := readFrame(c.nc, maxBytes)
	if err != nil {
		return err
	}
	c.busy.Store(true)
	defer c.markIdle(s)
	if c.sasl.raw && c.sasl.session != nil {
		return s.serveRawSASL(c, frame)
	}
	h, err := parseHeader(frame)
	if err != nil {
		return err
	}
	if err := c.checkAuthenticated(s, h.key); err != nil {
		return err
	}
	a, req, err := decodeRequest(h)
	if err != nil {
		return err
	}
	if c.broker != nil && !c.broker.Online() {
		return errBrokerStopped // a stopped broker answers nothing
	}
	if s.beforeHandle != nil {
		s.beforeHandle(h.key)
	}
	defer func() { // a handler's panic closes this connection, not the server
		if r := recover(); r != nil {
			err = fmt.Errorf("handling %s v%d: panic: %v\n%s", kmsg.NameForKey(h.key), h.version, r, debug.Stack())
		}
	}()
	resp, err := a.handle(&request{
		ctx: s.ctx, server: s, store: s.store, broker: c.broker, header: h,
		advertisedHost: c.advertisedHost, advertisedPort: c.advertisedPort,
		logger: s.opts.Logger, conn: c,
	}, req)
	if err != nil {
		return err
	}
	if resp == nil {
		return c.closeAfterResponse // a Produce with acks=0: Kafka sends no response
	}
	fetch, isFetch := resp.(*fetchResponse)
	if isFetch {
		defer fetch.release() // once written (or not: a stopped broker)
	}
	if c.broker != nil && !c.broker.Online() {
		return errBrokerStopped // stopped while handling: no answer, as from a broker that died
	}
	c.markIdle(s) // before the write: once the client has its response, it is idle
	if isFetch {
		err = s.writeFetchResponse(c, h.correlationID, fetch)
	} else {
		c.out = appendResponse(c.out[:0], h.correlationID, resp)
		_, err = c.nc.Write(c.out)
	}
	if cap(c.out) > maxKeptResponseBuffer {
		c.out = nil
	}
	if err == nil {
		err = c.closeAfterResponse
	}
	return err
}

// markIdle records that c has answered its request and is idle from now.
func (c *conn) markIdle(s *Server) {
	c.lastActive.Store(s.now().UnixNano())
	c.busy.Store(false)
}
