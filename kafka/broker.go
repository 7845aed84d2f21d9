package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
)

// errBrokerStopped ends a connection of a broker that is not online: it is
// reset instead of answering, as nothing answers for a Kafka broker that is down.
var errBrokerStopped = errors.New("strata/kafka: the broker is stopped: its connection reset unanswered")

// errNotCoordinator refuses a group or transaction request sent to a broker that
// does not lead the coordinator's partition: Kafka's NOT_COORDINATOR, after
// which the client finds the coordinator again (FindCoordinator).
var errNotCoordinator = errors.New("strata/kafka: this broker is not the coordinator")

// resetConn makes the close of a TCP connection reset it (SO_LINGER 0): the
// client of a stopped broker reads "connection reset", the nearest a listener
// that stays open comes to the refused connection of a broker that is down.
func resetConn(nc net.Conn) {
	switch c := nc.(type) {
	case *net.TCPConn:
		c.SetLinger(0)
	case interface{ NetConn() net.Conn }: // a *tls.Conn: its TCP connection
		resetConn(c.NetConn())
	}
}

// brokerListener is the listener ServeBroker serves a broker on.
type brokerListener struct {
	ln   net.Listener
	addr string // ln.Addr().String()
}

// ServeBroker serves broker id of the store on ln, as one broker of a Kafka
// cluster: its listener's Produce, Fetch, ListOffsets, OffsetForLeaderEpoch and
// DeleteRecords serve only the partitions the broker leads, answering the others
// NOT_LEADER_OR_FOLLOWER (log.ServingBroker); its group and transaction requests
// are answered only if it leads the coordinator's partition (partition 0 of
// log.OffsetsTopic, of log.TransactionStateTopic), NOT_COORDINATOR otherwise;
// Metadata, FindCoordinator and DescribeCluster give each broker at its own
// address (Options.BrokerAddrs, or the address of its ServeBroker listener);
// DescribeLogDirs describes the broker's own directory. While the broker is not
// online (log.Store.StopBroker) its listener answers nothing, as a Kafka broker
// that is down: its connections are reset when it stops (those with a request in
// flight included), new ones as they are accepted, and a connection is reset
// instead of answering a request. It answers again once the broker is back
// (StartBroker).
//
// It returns as Serve does: ErrServerClosed after Shutdown or Close, another
// error of ln.Accept. An id that is not one of the store's brokers is an error
// matching replica.ErrUnknownBroker. ln is closed on return.
func (s *Server) ServeBroker(id replica.BrokerID, ln net.Listener) error {
	broker, err := s.registerBroker(id, ln)
	if err != nil {
		ln.Close()
		return err
	}
	return s.serveBroker(id, ln, broker)
}

// serveBroker serves broker, registered on ln, until the server closes.
func (s *Server) serveBroker(id replica.BrokerID, ln net.Listener, broker *log.ServingBroker) error {
	defer s.unregisterBroker(id, ln)
	served := make(chan struct{})
	defer close(served)
	if s.startGoroutine() {
		go s.resetWhenStopped(broker, served)
	}
	return s.serveListener(ln, broker)
}

// startGoroutine counts a goroutine of the server that Shutdown and Close wait
// for, unless the server is closing (false).
func (s *Server) startGoroutine() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns.Add(1)
	return true
}

// resetWhenStopped resets the connections of broker whenever it is not online,
// as its partitions' states change (StopBroker), until served is closed: a
// stopped broker's connections end at once, those waiting for a request and
// those with one in flight (a long poll, a JoinGroup waiting for its group),
// as a Kafka broker's that died.
func (s *Server) resetWhenStopped(broker *log.ServingBroker, served <-chan struct{}) {
	defer s.conns.Done()
	var last <-chan struct{}
	for {
		changed := broker.Changed()
		if !broker.Online() {
			s.resetConns(broker)
		}
		if changed == last {
			// The same channel, closed, again: the store closed (it outlives the
			// server by contract, but a program may close it first). Its broker
			// stays offline for good: no more changes to wait for.
			<-served
			return
		}
		last = changed
		select {
		case <-changed:
		case <-served:
			return
		}
	}
}

// resetConns resets every connection of broker's listeners.
func (s *Server) resetConns(broker *log.ServingBroker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.mu.conns {
		if c.broker == broker {
			resetConn(c.nc)
			c.nc.Close()
		}
	}
}

// ServeBrokers serves each broker of store on its listener (ServeBroker) until
// ctx is done, then shuts down gracefully and returns nil; it returns the first
// other error of a listener, after closing the others. Every listener's address
// is known to the others before any accepts a connection, so that the first
// Metadata lists every broker. Every listener is closed on return.
func ServeBrokers(ctx context.Context, listeners map[replica.BrokerID]net.Listener, store *log.Store, opts *Options) error {
	closeAll := func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}
	s, err := NewServer(store, opts)
	if err != nil {
		closeAll()
		return err
	}
	ids := slices.Sorted(maps.Keys(listeners))
	brokers := make([]*log.ServingBroker, len(ids))
	for i, id := range ids {
		if brokers[i], err = s.registerBroker(id, listeners[id]); err != nil {
			closeAll()
			return err
		}
	}
	served := make(chan error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { served <- s.serveBroker(id, listeners[id], brokers[i]) })
	}
	var first error
	var shutdownErr error
	select {
	case <-ctx.Done():
		shutdownErr = s.Shutdown(context.Background())
	case first = <-served:
		shutdownErr = s.Close()
	}
	wg.Wait()
	close(served)
	for err := range served {
		if first == nil || errors.Is(first, ErrServerClosed) {
			first = err
		}
	}
	if first != nil && !errors.Is(first, ErrServerClosed) {
		return first
	}
	return shutdownErr
}

// registerBroker returns broker id's view of the store and records ln as its
// listener (the first one, if ServeBroker is called for it several times).
func (s *Server) registerBroker(id replica.BrokerID, ln net.Listener) (*log.ServingBroker, error) {
	broker, err := s.store.Broker(id)
	if err != nil {
		return nil, fmt.Errorf("strata/kafka: serve broker %d: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mu.brokers[id]; !ok {
		s.mu.brokers[id] = brokerListener{ln: ln, addr: ln.Addr().String()}
	}
	return broker, nil
}

// unregisterBroker forgets ln as broker id's listener.
func (s *Server) unregisterBroker(id replica.BrokerID, ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.brokers[id].ln == ln {
		delete(s.mu.brokers, id)
	}
}

// brokerEndpoint returns the advertised address of broker id for a client
// connected on nc: Options.BrokerAddrs', else its ServeBroker listener's (with
// nc's local host if the listener is bound to every interface); ok is false if
// it has neither.
func (s *Server) brokerEndpoint(id replica.BrokerID, nc net.Conn) (host string, port int32, ok bool) {
	addr, configured := s.opts.BrokerAddrs[id]
	if !configured {
		s.mu.Lock()
		l, served := s.mu.brokers[id]
		s.mu.Unlock()
		if !served {
			return "", -1, false
		}
		addr = l.addr
	}
	host, port, err := splitHostPort(addr)
	if err != nil {
		return "", -1, false
	}
	if ip := net.ParseIP(host); !configured && (host == "" || ip != nil && ip.IsUnspecified()) && nc != nil {
		if local, _, err := net.SplitHostPort(nc.LocalAddr().String()); err == nil {
			host = local // the address this client reached, the same machine
		}
	}
	return host, port, true
}

// brokerNode is a broker as Metadata and DescribeCluster list it.
type brokerNode struct {
	id     replica.BrokerID
	host   string
	port   int32
	online bool
}

// brokerNodes returns the store's brokers, by id, at the addresses the
// request's listener advertises: every broker at the listener's advertised
// address for Serve's; for ServeBroker's each broker at its own, those without
// an address left out.
func (r *request) brokerNodes() ([]brokerNode, error) {
	brokers, err := r.store.Brokers()
	if err != nil {
		return nil, err
	}
	nodes := make([]brokerNode, 0, len(brokers))
	for _, b := range brokers {
		node := brokerNode{id: b.ID, host: r.advertisedHost, port: r.advertisedPort, online: b.Online}
		if r.broker != nil {
			var ok bool
			if node.host, node.port, ok = r.server.brokerEndpoint(b.ID, r.conn.nc); !ok {
				continue
			}
		}
		nodes = append(nodes, node)
	}
	return nodes, nil
}

// controllerID is the broker that Metadata and DescribeCluster name the
// controller: the first online one listed. strata's controller is in process,
// not one of the brokers, and every broker takes admin requests (a Kafka broker
// in KRaft mode forwards them to its controller and names a random live broker
// the same way); -1 if none is online.
func controllerID(nodes []brokerNode) int32 {
	for _, n := range nodes {
		if n.online {
			return int32(n.id)
		}
	}
	return -1
}

// notLeader returns a *log.NotLeaderError if the request's listener serves one
// broker (ServeBroker) and it is not leader, tp's leader; nil otherwise.
func (r *request) notLeader(tp log.TopicPartition, leader replica.BrokerID) error {
	if r.broker == nil || r.broker.ID() == leader {
		return nil
	}
	return &log.NotLeaderError{TopicPartition: tp, Broker: r.broker.ID(), Leader: leader}
}

// partitionServer is what Produce, Fetch and OffsetForLeaderEpoch are served
// from: the whole store (*log.Store), or one broker's view of it
// (*log.ServingBroker).
type partitionServer interface {
	AppendBatch(context.Context, log.TopicPartition, []byte, log.AppendBatchOptions) (int64, error)
	FetchBatches(ctx context.Context, tp log.TopicPartition, offset int64, maxBytes int, level log.IsolationLevel) (log.FetchResult, error)
	WaitForData(ctx context.Context, level log.IsolationLevel, positions map[log.TopicPartition]int64) error
	EndOffsetForEpoch(ctx context.Context, tp log.TopicPartition, epoch int32) (int32, int64, error)
}

// partitions returns what the request's partitions are served from.
func (r *request) partitions() partitionServer {
	if r.broker != nil {
		return r.broker
	}
	return r.store
}

// coordinatorLeader returns the leader of partition 0 of topic, the partition a
// coordinator keeps its state in; replica.NoBroker if it has none (or there is
// no such topic).
func coordinatorLeader(store *log.Store, topic string) replica.BrokerID {
	d, err := store.DescribeTopic(topic)
	if err != nil || len(d.Partitions) == 0 || d.Partitions[0].Offline != nil {
		return replica.NoBroker
	}
	return d.Partitions[0].Leader
}

// checkCoordinator returns nil if the request may be answered by the
// coordinator whose state is in topic (log.OffsetsTopic, log.TransactionStateTopic):
// on Serve's listeners always, on ServeBroker's if the broker leads the topic's
// partition 0; otherwise an error matching errNotCoordinator. The store has one
// group and one transaction coordinator, in process, which write through the
// leader of that partition wherever it moves: the broker that leads it is the
// one clients are sent to (FindCoordinator), as a Kafka broker coordinates the
// groups of the partitions it leads.
func (r *request) checkCoordinator(topic string) error {
	if r.broker == nil {
		return nil
	}
	if leader := coordinatorLeader(r.store, topic); leader != r.broker.ID() {
		return fmt.Errorf("%w: broker %d does not lead %s-0 (broker %d does)", errNotCoordinator, r.broker.ID(), topic, leader)
	}
	return nil
}
