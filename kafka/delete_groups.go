package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDeleteGroups answers DeleteGroups through the store's group
// coordinator: each group without members is deleted with its committed
// offsets; a group with members is NON_EMPTY_GROUP, an unknown one
// GROUP_ID_NOT_FOUND.
func handleDeleteGroups(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteGroupsRequest)
	resp := kmsg.NewPtrDeleteGroupsResponse()
	resp.Version = req.Version
	c, coordinatorErr := r.groupCoordinator()
	for _, name := range req.Groups {
		out := kmsg.NewDeleteGroupsResponseGroup()
		out.Group = name
		err := coordinatorErr
		if err == nil {
			err = c.DeleteGroup(r.ctx, name)
		}
		out.ErrorCode, out.ErrorMessage = groupErrorCode(err), groupErrorMessage(err)
		resp.Groups = append(resp.Groups, out)
	}
	return resp, nil
}
