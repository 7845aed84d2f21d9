package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleCreateAcls answers CreateAcls as a broker without an authorizer: each
// creation SECURITY_DISABLED, none made.
func handleCreateAcls(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.CreateACLsRequest)
	resp := kmsg.NewPtrCreateACLsResponse()
	resp.Version = req.Version
	for range req.Creations {
		result := kmsg.NewCreateACLsResponseResult()
		result.ErrorCode, result.ErrorMessage = kerr.SecurityDisabled.Code, message(noAuthorizer)
		resp.Results = append(resp.Results, result)
	}
	return resp, nil
}
