package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// scramMechanismCodes are the SCRAM mechanisms' codes in the user SCRAM
// credential APIs (Kafka's ScramMechanism: 0 is UNKNOWN).
var scramMechanismCodes = map[int8]string{1: SCRAMSHA256, 2: SCRAMSHA512}

// scramMechanismCode returns mechanism's code in the user SCRAM credential APIs.
func scramMechanismCode(mechanism string) int8 {
	for code, name := range scramMechanismCodes {
		if name == mechanism {
			return code
		}
	}
	return 0
}

// handleDescribeUserScramCredentials answers DescribeUserScramCredentials from
// Options.Credentials, as Kafka's ScramImage.describe: no users (null or
// empty) lists every user with a credential; a user asked for without one is
// RESOURCE_NOT_FOUND, one asked for twice DUPLICATE_RESOURCE. Each user's
// credentials are listed by mechanism with their iterations, never their keys.
// Without a credential store, the server answers as a Kafka cluster holding no
// SCRAM credentials. A credential file that does not read is
// UNKNOWN_SERVER_ERROR for the whole request.
func handleDescribeUserScramCredentials(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := kmsg.NewPtrDescribeUserSCRAMCredentialsResponse()
	resp.Version = req.Version
	var infos []CredentialInfo
	if store := r.server.opts.Credentials; store != nil {
		var err error
		if infos, err = store.Describe(); err != nil {
			r.logger.Error("DescribeUserScramCredentials: the credential file does not read", "err", err)
			resp.ErrorCode = kerr.UnknownServerError.Code
			resp.ErrorMessage = message("the SCRAM credential file does not read")
			return resp, nil
		}
	}
	byUser := map[string][]kmsg.DescribeUserSCRAMCredentialsResponseResultCredentialInfo{}
	var all []string // users in order, infos being sorted
	for _, info := range infos {
		if _, seen := byUser[info.User]; !seen {
			all = append(all, info.User)
		}
		credential := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
		credential.Mechanism = scramMechanismCode(info.Mechanism)
		credential.Iterations = int32(info.Iterations)
		byUser[info.User] = append(byUser[info.User], credential)
	}
	users := all
	asked := map[string]int{}
	if len(req.Users) > 0 {
		users = nil
		for _, user := range req.Users {
			if asked[user.Name]++; asked[user.Name] == 1 {
				users = append(users, user.Name)
			}
		}
	}
	for _, user := range users {
		result := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		result.User = user
		switch {
		case asked[user] > 1:
			result.ErrorCode = kerr.DuplicateResource.Code
			result.ErrorMessage = message("Cannot describe SCRAM credentials for the same user twice in a single request: " + user)
		case byUser[user] == nil:
			result.ErrorCode = kerr.ResourceNotFound.Code
			result.ErrorMessage = message("Attempt to describe a user credential that does not exist: " + user)
		default:
			result.CredentialInfos = byUser[user]
		}
		resp.Results = append(resp.Results, result)
	}
	return resp, nil
}
