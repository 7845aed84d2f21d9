package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleLeaveGroup answers LeaveGroup through the store's group coordinator:
// the members leave (by member ID, or a static member by its instance ID) and
// the rest of the group rebalances. Before v3 one member leaves and its error is
// the response's; from v3 several may, each with its own error, and the
// response's error is for the request as a whole (no coordinator).
func handleLeaveGroup(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.LeaveGroupRequest)
	resp := kmsg.NewPtrLeaveGroupResponse()
	resp.Version = req.Version
	c, err := r.groupCoordinator()
	if err != nil {
		resp.ErrorCode = groupErrorCode(err)
		return resp, nil
	}
	if req.Version < 3 {
		resp.ErrorCode = groupErrorCode(c.LeaveGroup(req.Group, req.MemberID, ""))
		return resp, nil
	}
	for _, m := range req.Members {
		out := kmsg.NewLeaveGroupResponseMember()
		out.MemberID, out.InstanceID = m.MemberID, m.InstanceID
		out.ErrorCode = groupErrorCode(c.LeaveGroup(req.Group, m.MemberID, stringValue(m.InstanceID)))
		resp.Members = append(resp.Members, out)
	}
	return resp, nil
}
