package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDeleteAcls answers DeleteAcls as a broker without an authorizer: each
// filter SECURITY_DISABLED, matching nothing.
func handleDeleteAcls(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteACLsRequest)
	resp := kmsg.NewPtrDeleteACLsResponse()
	resp.Version = req.Version
	for range req.Filters {
		result := kmsg.NewDeleteACLsResponseResult()
		result.ErrorCode, result.ErrorMessage = kerr.SecurityDisabled.Code, message(noAuthorizer)
		resp.Results = append(resp.Results, result)
	}
	return resp, nil
}
