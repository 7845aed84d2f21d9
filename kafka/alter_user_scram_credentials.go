package kafka

import (
	"errors"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleAlterUserScramCredentials answers AlterUserScramCredentials by changing
// Options.Credentials, with the rules of Kafka's ScramControlManager:
//
//   - a user may be altered once per request, deletions and upsertions together
//     (a second alteration of a user, whatever its mechanism, fails both:
//     DUPLICATE_RESOURCE);
//   - an empty user name is UNACCEPTABLE_CREDENTIAL, a mechanism other than
//     SCRAM-SHA-256 (1) and SCRAM-SHA-512 (2) UNSUPPORTED_SASL_MECHANISM;
//   - a deletion of a credential the user does not have is RESOURCE_NOT_FOUND;
//   - an upsertion of fewer than 4096 or more than 16384 iterations is
//     UNACCEPTABLE_CREDENTIAL ("Too few iterations", "Too many iterations"); so
//     are, here, an empty salt or salted password and a user name that is not
//     UTF-8 (Kafka fails them in its key derivation, or decodes them as UTF-8);
//   - the alterations that pass are made together, in one write of the file.
//
// The client sends the salted password (Hi(password, salt, iterations)); the
// server keeps StoredKey and ServerKey derived from it, as Kafka does.
// Deletions answer first, then upsertions, then the failures. Without a
// credential store, every user is UNSUPPORTED_VERSION, Kafka's answer when its
// metadata version cannot hold SCRAM credentials. A credential file that cannot
// be read or written fails every alteration of the request that passed its
// checks with UNKNOWN_SERVER_ERROR; alterations that would make the file larger
// than it may be (64 MiB) fail together with UNACCEPTABLE_CREDENTIAL.
func handleAlterUserScramCredentials(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := kmsg.NewPtrAlterUserSCRAMCredentialsResponse()
	resp.Version = req.Version
	store := r.server.opts.Credentials
	var outcome scramAlteration
	if store == nil {
		outcome = alterSCRAMCredentials(req, nil)
	} else {
		ran := false
		err := store.update(func(entries map[credentialKey]SCRAMCredential) (bool, error) {
			ran = true
			outcome = alterSCRAMCredentials(req, entries)
			return len(outcome.done) > 0, nil
		})
		if err != nil {
			r.logger.Error("AlterUserScramCredentials: the credential file", "err", err)
			if !ran {
				outcome = scramAlteration{failed: map[string]scramFailure{}}
				for _, user := range requestUsers(req) {
					outcome.note(user, scramFailure{kerr.UnknownServerError.Code, ""})
				}
			}
			failure := scramFailure{kerr.UnknownServerError.Code, ""}
			if errors.Is(err, ErrInvalidCredential) { // too large for the file
				failure = scramFailure{kerr.UnacceptableCredential.Code, err.Error()}
			}
			for _, user := range outcome.done {
				outcome.note(user, failure)
			}
			outcome.done = nil
			for user, failure := range outcome.failed {
				if failure.code == kerr.UnknownServerError.Code {
					failure.message = "the SCRAM credential file could not be read or written"
					outcome.failed[user] = failure
				}
			}
		}
	}
	for _, user := range outcome.done {
		result := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		result.User = user
		resp.Results = append(resp.Results, result)
	}
	for _, user := range outcome.failedOrder {
		result := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		result.User = user
		result.ErrorCode = outcome.failed[user].code
		result.ErrorMessage = message(outcome.failed[user].message)
		resp.Results = append(resp.Results, result)
	}
	return resp, nil
}

// scramAlteration is the outcome of an AlterUserScramCredentials request: the
// users altered (deletions first, in request order) and those that failed.
type scramAlteration struct {
	done        []string
	failed      map[string]scramFailure
	failedOrder []string
}

// scramFailure is a user's error code and message.
type scramFailure struct {
	code    int16
	message string
}

// note records that user failed, once.
func (a *scramAlteration) note(user string, failure scramFailure) {
	if _, again := a.failed[user]; !again {
		a.failedOrder = append(a.failedOrder, user)
	}
	a.failed[user] = failure
}

// requestUsers returns the users of req, each once, in request order.
func requestUsers(req *kmsg.AlterUserSCRAMCredentialsRequest) []string {
	var users []string
	seen := map[string]bool{}
	add := func(user string) {
		if !seen[user] {
			seen[user] = true
			users = append(users, user)
		}
	}
	for _, d := range req.Deletions {
		add(d.Name)
	}
	for _, u := range req.Upsertions {
		add(u.Name)
	}
	return users
}

// alterSCRAMCredentials checks req's alterations against entries (nil: no
// credential store) and makes those that pass in entries.
func alterSCRAMCredentials(req *kmsg.AlterUserSCRAMCredentialsRequest, entries map[credentialKey]SCRAMCredential) scramAlteration {
	a := scramAlteration{failed: map[string]scramFailure{}}
	deletions := map[string]kmsg.AlterUserSCRAMCredentialsRequestDeletion{}
	upsertions := map[string]kmsg.AlterUserSCRAMCredentialsRequestUpsertion{}
	var deletionOrder, upsertionOrder []string
	duplicate := scramFailure{kerr.DuplicateResource.Code, "A user credential cannot be altered twice in the same request"}
	unsupported := scramFailure{kerr.UnsupportedVersion.Code, "SCRAM credentials cannot be altered: the server has no credential store"}
	for _, d := range req.Deletions {
		if _, failed := a.failed[d.Name]; failed {
			continue
		}
		if _, again := deletions[d.Name]; again {
			delete(deletions, d.Name)
			a.note(d.Name, duplicate)
			continue
		}
		if entries == nil {
			a.note(d.Name, unsupported)
			continue
		}
		if failure, bad := checkSCRAMUserAndMechanism(d.Name, d.Mechanism); bad {
			a.note(d.Name, failure)
			continue
		}
		if _, ok := entries[credentialKey{scramMechanismCodes[d.Mechanism], d.Name}]; !ok {
			a.note(d.Name, scramFailure{kerr.ResourceNotFound.Code, "Attempt to delete a user credential that does not exist"})
			continue
		}
		deletions[d.Name] = d
		deletionOrder = append(deletionOrder, d.Name)
	}
	for _, u := range req.Upsertions {
		if _, failed := a.failed[u.Name]; failed {
			continue
		}
		_, deleted := deletions[u.Name]
		_, again := upsertions[u.Name]
		if deleted || again {
			delete(deletions, u.Name)
			delete(upsertions, u.Name)
			a.note(u.Name, duplicate)
			continue
		}
		if entries == nil {
			a.note(u.Name, unsupported)
			continue
		}
		if failure, bad := checkSCRAMUpsertion(u); bad {
			a.note(u.Name, failure)
			continue
		}
		upsertions[u.Name] = u
		upsertionOrder = append(upsertionOrder, u.Name)
	}
	for _, user := range deletionOrder {
		if d, ok := deletions[user]; ok {
			delete(entries, credentialKey{scramMechanismCodes[d.Mechanism], d.Name})
			a.done = append(a.done, user)
		}
	}
	for _, user := range upsertionOrder {
		u, ok := upsertions[user]
		if !ok {
			continue
		}
		mechanism := scramMechanismCodes[u.Mechanism]
		credential := scramCredentialFromSaltedPassword(scramHash(mechanism), u.Salt, u.SaltedPassword, int(u.Iterations))
		if err := validateCredential(mechanism, u.Name, credential); err != nil {
			a.note(user, scramFailure{kerr.UnacceptableCredential.Code, err.Error()})
			continue
		}
		entries[credentialKey{mechanism, u.Name}] = credential
		a.done = append(a.done, user)
	}
	return a
}

// checkSCRAMUserAndMechanism is Kafka's validateScramUsernameAndMechanism.
func checkSCRAMUserAndMechanism(user string, mechanism int8) (scramFailure, bool) {
	if user == "" {
		return scramFailure{kerr.UnacceptableCredential.Code, "Username must not be empty"}, true
	}
	if scramMechanismCodes[mechanism] == "" {
		return scramFailure{kerr.UnsupportedSaslMechanism.Code, "Unknown SCRAM mechanism"}, true
	}
	return scramFailure{}, false
}

// checkSCRAMUpsertion is Kafka's validateUpsertion, and the checks Kafka's key
// derivation makes.
func checkSCRAMUpsertion(u kmsg.AlterUserSCRAMCredentialsRequestUpsertion) (scramFailure, bool) {
	if failure, bad := checkSCRAMUserAndMechanism(u.Name, u.Mechanism); bad {
		return failure, true
	}
	switch {
	case u.Iterations < minSCRAMIterations:
		return scramFailure{kerr.UnacceptableCredential.Code, "Too few iterations"}, true
	case u.Iterations > maxSCRAMIterations:
		return scramFailure{kerr.UnacceptableCredential.Code, "Too many iterations"}, true
	case len(u.Salt) == 0:
		return scramFailure{kerr.UnacceptableCredential.Code, "Empty salt"}, true
	case len(u.SaltedPassword) == 0:
		return scramFailure{kerr.UnacceptableCredential.Code, "Empty salted password"}, true
	case !utf8.ValidString(u.Name):
		return scramFailure{kerr.UnacceptableCredential.Code, "Username must be UTF-8"}, true
	}
	return scramFailure{}, false
}
