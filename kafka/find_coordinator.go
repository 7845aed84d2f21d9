package kafka

import (
	"fmt"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The coordinator key types of FindCoordinator.
const (
	coordinatorTypeGroup       = 0
	coordinatorTypeTransaction = 1
)

// handleFindCoordinator answers FindCoordinator: every group and every
// transactional ID is coordinated by the store's one coordinator, answered as
// the broker leading the partition it keeps its state in (partition 0 of
// log.OffsetsTopic, of log.TransactionStateTopic: see checkCoordinator) at the
// address Metadata gives it; with no leader (or a leader without an address),
// COORDINATOR_NOT_AVAILABLE, after which clients ask again. A group key starts the group coordinator (creating the offsets topic,
// as Kafka creates __consumer_offsets), a transactional ID the transaction
// coordinator (creating its state topic); if the store cannot (it is closed, the
// topic offline), the key gets COORDINATOR_NOT_AVAILABLE. v4+ asks for several
// keys at once.
func handleFindCoordinator(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := kmsg.NewPtrFindCoordinatorResponse()
	resp.Version = req.Version
	keys := req.CoordinatorKeys
	if req.Version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	for _, key := range keys {
		resp.Coordinators = append(resp.Coordinators, findCoordinator(r, req.CoordinatorType, key))
	}
	if req.Version < 4 {
		c := resp.Coordinators[0]
		resp.Coordinators = nil
		resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
		resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
	}
	return resp, nil
}

// findCoordinator answers one key.
func findCoordinator(r *request, keyType int8, key string) kmsg.FindCoordinatorResponseCoordinator {
	out := kmsg.NewFindCoordinatorResponseCoordinator()
	out.Key, out.NodeID, out.Port = key, -1, -1
	fail := func(kind *kerr.Error, err error) kmsg.FindCoordinatorResponseCoordinator {
		out.ErrorCode = kind.Code
		if err != nil {
			out.ErrorMessage = message(err.Error())
		}
		return out
	}
	stateTopic := log.OffsetsTopic
	switch keyType {
	case coordinatorTypeGroup:
		if key == "" {
			return fail(kerr.InvalidRequest, nil)
		}
		if _, err := r.store.GroupCoordinator(); err != nil {
			return fail(groupErrorKind(err), err)
		}
	case coordinatorTypeTransaction:
		if key == "" {
			return fail(kerr.InvalidRequest, nil)
		}
		if _, err := r.store.TxnCoordinator(); err != nil {
			return fail(groupErrorKind(err), err)
		}
		stateTopic = log.TransactionStateTopic
	default:
		return fail(kerr.InvalidRequest, nil)
	}
	leader := coordinatorLeader(r.store, stateTopic)
	if leader == replica.NoBroker {
		return fail(kerr.CoordinatorNotAvailable, fmt.Errorf("%s-0 has no leader", stateTopic))
	}
	host, port := r.advertisedHost, r.advertisedPort
	if r.broker != nil {
		var ok bool
		if host, port, ok = r.server.brokerEndpoint(leader, r.conn.nc); !ok {
			return fail(kerr.CoordinatorNotAvailable, fmt.Errorf("broker %d, the leader of %s-0, has no address", leader, stateTopic))
		}
	}
	out.NodeID, out.Host, out.Port = int32(leader), host, port
	return out
}
