package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDescribeAcls answers DescribeAcls as a broker without an authorizer:
// SECURITY_DISABLED.
func handleDescribeAcls(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeACLsRequest)
	resp := kmsg.NewPtrDescribeACLsResponse()
	resp.Version = req.Version
	resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, message(noAuthorizer)
	return resp, nil
}
