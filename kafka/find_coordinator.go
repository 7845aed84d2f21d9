package kafka

import (
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
// the store's first broker (the controller Metadata reports) at the advertised
// address. A group key starts the group coordinator (creating the offsets topic,
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
	switch keyType {
	case coordinatorTypeGroup:
		if key == "" {
			return fail(kerr.InvalidRequest, nil)
		}
		if _, err := r.groupCoordinator(); err != nil {
			return fail(groupErrorKind(err), err)
		}
	case coordinatorTypeTransaction:
		if key == "" {
			return fail(kerr.InvalidRequest, nil)
		}
		if _, err := r.store.TxnCoordinator(); err != nil {
			return fail(groupErrorKind(err), err)
		}
	default:
		return fail(kerr.InvalidRequest, nil)
	}
	brokers, err := r.store.Brokers()
	if err != nil || len(brokers) == 0 {
		return fail(kerr.CoordinatorNotAvailable, err)
	}
	out.NodeID = int32(brokers[0].ID)
	out.Host, out.Port = r.advertisedHost, r.advertisedPort
	return out
}
