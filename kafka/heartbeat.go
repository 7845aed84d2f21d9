package kafka

import (
	"github.com/stratalog/strata/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleHeartbeat answers Heartbeat through the store's group coordinator: it
// keeps the member's session alive and tells it, with REBALANCE_IN_PROGRESS,
// that the group rebalances and it must rejoin (a remote member learns of a
// rebalance only this way, as from Kafka).
func handleHeartbeat(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.HeartbeatRequest)
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.Version = req.Version
	c, err := r.groupCoordinator()
	if err == nil {
		err = c.Heartbeat(group.HeartbeatRequest{
			Group:      req.Group,
			MemberID:   req.MemberID,
			InstanceID: stringValue(req.InstanceID),
			Generation: req.Generation,
		})
	}
	resp.ErrorCode = groupErrorCode(err)
	return resp, nil
}
