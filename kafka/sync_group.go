package kafka

import (
	"github.com/stratalog/strata/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleSyncGroup answers SyncGroup through the store's group coordinator: a
// member's assignment in the generation it joined, once the leader has sent
// the assignments (the leader's request carries them). A follower's request
// waits for the leader's, and the connection's later requests with it.
func handleSyncGroup(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.SyncGroupRequest)
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = req.Version
	c, err := r.groupCoordinator()
	if err != nil {
		resp.ErrorCode = groupErrorCode(err)
		return resp, nil
	}
	sync := group.SyncRequest{
		Group:        req.Group,
		MemberID:     req.MemberID,
		InstanceID:   stringValue(req.InstanceID),
		Generation:   req.Generation,
		ProtocolType: stringValue(req.ProtocolType),
		Protocol:     stringValue(req.Protocol),
	}
	if len(req.GroupAssignment) > 0 {
		sync.Assignments = make(map[string][]byte, len(req.GroupAssignment))
		for _, a := range req.GroupAssignment {
			sync.Assignments[a.MemberID] = a.MemberAssignment
		}
	}
	synced, err := waitForGroup(r, func(respond func(group.SyncResponse, error)) { c.SyncGroup(sync, respond) })
	if err != nil {
		resp.ErrorCode = groupErrorCode(err)
		return resp, nil
	}
	resp.ProtocolType = message(synced.ProtocolType)
	resp.Protocol = message(synced.Protocol)
	resp.MemberAssignment = synced.Assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{} // an empty assignment, as Kafka sends one
	}
	return resp, nil
}
