package kafka

import (
	"errors"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/txn"
)

// errShuttingDown answers a JoinGroup or SyncGroup that was still waiting for
// the rest of its group when the server shut down: NOT_COORDINATOR, as from a
// Kafka broker that resigns as coordinator, so that the client finds the
// coordinator again (elsewhere, or here once restarted) and rejoins.
var errShuttingDown = errors.New("strata/kafka: server shutting down")

// groupAnswer is the answer of the coordinator to a JoinGroup or SyncGroup.
type groupAnswer[T any] struct {
	resp T
	err  error
}

// waitForGroup calls start with a callback and waits for the coordinator to
// call it: at once, or when the rest of the group has joined (or synced). The
// connection's later requests wait meanwhile, as on a Kafka broker, which
// answers a connection's requests in order. A shutdown of the server ends the
// wait with errShuttingDown; the coordinator's later answer is dropped.
func waitForGroup[T any](r *request, start func(respond func(T, error))) (T, error) {
	answered := make(chan groupAnswer[T], 1) // the callback must not block
	start(func(resp T, err error) { answered <- groupAnswer[T]{resp, err} })
	select {
	case a := <-answered:
		return a.resp, a.err
	case <-r.server.draining:
	case <-r.ctx.Done():
	}
	select {
	case a := <-answered: // answered as the server stopped: the answer wins
		return a.resp, a.err
	default:
		var zero T
		return zero, errShuttingDown
	}
}

// groupCoordinator returns the store's group coordinator, started (and its
// offsets topic created) if it was not yet; on a listener of one broker that is
// not the coordinator (checkCoordinator), an error matching errNotCoordinator.
func (r *request) groupCoordinator() (*group.Coordinator, error) {
	c, err := r.store.GroupCoordinator()
	if err != nil {
		return nil, err
	}
	if err := r.checkCoordinator(log.OffsetsTopic); err != nil {
		return nil, err
	}
	return c, nil
}

// txnCoordinator is groupCoordinator of the store's transaction coordinator.
func (r *request) txnCoordinator() (*txn.Coordinator, error) {
	c, err := r.store.TxnCoordinator()
	if err != nil {
		return nil, err
	}
	if err := r.checkCoordinator(log.TransactionStateTopic); err != nil {
		return nil, err
	}
	return c, nil
}

// optionalString returns s, or nil if it is empty: the nullable fields (an
// instance ID, a protocol name) that Kafka sends null when unset.
func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stringValue returns *p, or "" for nil.
func stringValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
