package log

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratalog/strata/replica"
)

// ServingBroker is one broker of a store as a Kafka client sees it: a server with
// its own address, which produces to and fetches from only the partitions it
// leads, and refuses the others with a *NotLeaderError naming the leader (Kafka's
// NOT_LEADER_OR_FOLLOWER), so that clients route by leader and move on a
// failover. A one-broker store has one, broker 0, leading every partition. Its
// methods may be called concurrently.
type ServingBroker struct {
	s  *Store
	id replica.BrokerID
}

// Broker returns broker id's view of the store, for the listener serving that
// broker. An id that is not one of the store's brokers (Brokers) is an error
// matching replica.ErrUnknownBroker; a broker that is offline is not: its calls
// fail with *NotLeaderError, for it leads nothing.
func (s *Store) Broker(id replica.BrokerID) (*ServingBroker, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	ids := []replica.BrokerID{0}
	if s.brokers != nil {
		ids = s.brokers.brokerIDs()
	}
	if !slices.Contains(ids, id) {
		return nil, errorf("strata/log: broker %d (brokers %s): %w", id, replica.FormatBrokers(ids), replica.ErrUnknownBroker)
	}
	return &ServingBroker{s: s, id: id}, nil
}

// ID returns the broker's id.
func (b *ServingBroker) ID() replica.BrokerID { return b.id }

// Online reports whether the broker is online: false once StopBroker stopped it
// or its disk failed (until StartBroker), or once the store is closed. A server
// answers nothing for a broker that is not online, as nothing answers for a
// Kafka broker that is down. A one-broker store's broker is online while the
// store is open.
func (b *ServingBroker) Online() bool {
	if b.s.closed.Load() {
		return false
	}
	if b.s.brokers == nil {
		return true
	}
	return b.s.brokers.cluster.Online(b.id)
}

// Changed returns a channel closed at the store's next change of a partition's
// state (a leader elected, an ISR changed: what StopBroker and StartBroker do to
// a broker that holds replicas), or, in a one-broker store, when the store
// closes: for a server to act on Online at once (closing a stopped broker's
// connections) rather than at its next request. It may be closed for a change
// that does not concern this broker: check Online again, then wait on a new
// channel.
func (b *ServingBroker) Changed() <-chan struct{} {
	if b.s.brokers == nil {
		return b.s.stop
	}
	return b.s.brokers.cluster.StateApplied()
}

// AppendBatch is Store.AppendBatch on this broker: a partition it does not lead
// (or no longer leads when the append reaches its replica) is a *NotLeaderError,
// and nothing is written (a transactional batch's partition is not added to its
// transaction); it does not follow the leader.
func (b *ServingBroker) AppendBatch(ctx context.Context, tp TopicPartition, batch []byte, o AppendBatchOptions) (int64, error) {
	return b.s.appendClientBatch(ctx, &b.id, tp, batch, o)
}

// FetchBatches is Store.FetchBatches on this broker: a partition it does not lead
// is a *NotLeaderError.
func (b *ServingBroker) FetchBatches(ctx context.Context, tp TopicPartition, offset int64, maxBytes int, level IsolationLevel) (FetchResult, error) {
	return b.s.fetchBatches(ctx, &b.id, tp, offset, maxBytes, level)
}

// WaitForData is Store.WaitForData on this broker: it returns at once if a
// partition is not led by this broker, for the fetch to report it.
func (b *ServingBroker) WaitForData(ctx context.Context, level IsolationLevel, positions map[TopicPartition]int64) error {
	return b.s.waitForData(ctx, &b.id, level, positions)
}

// NotLeaderError refuses a call on a broker for a partition it does not lead
// (errors.Is(err, ErrNotLeader)): Kafka's NOT_LEADER_OR_FOLLOWER, after which a
// client refreshes its metadata and goes to Leader.
type NotLeaderError struct {
	TopicPartition TopicPartition
	// Broker is the broker that was asked.
	Broker replica.BrokerID
	// Leader is the partition's current leader, replica.NoBroker if it has none
	// (Kafka's LEADER_NOT_AVAILABLE is then the closer answer).
	Leader replica.BrokerID
}

func (e *NotLeaderError) Error() string {
	if e.Leader == replica.NoBroker {
		return fmt.Sprintf("strata/log: %s: broker %d is not the leader; the partition has none", e.TopicPartition, e.Broker)
	}
	return fmt.Sprintf("strata/log: %s: broker %d is not the leader; broker %d is", e.TopicPartition, e.Broker, e.Leader)
}

// Unwrap makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }

// leadingReplica returns broker's replica of rp if it leads, else a
// *NotLeaderError.
func leadingReplica(tp TopicPartition, rp *replica.Partition, broker replica.BrokerID) (*replica.Replica, error) {
	r := rp.Replica(broker)
	if r == nil || !r.IsLeader() {
		return nil, &NotLeaderError{TopicPartition: tp, Broker: broker, Leader: rp.State().Leader}
	}
	return r, nil
}
