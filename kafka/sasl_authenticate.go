package kafka

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleSaslAuthenticate answers SaslAuthenticate: the client's token goes to
// the exchange the connection's SaslHandshake started, and its answer back.
// Credentials refused are SASL_AUTHENTICATION_FAILED, and the connection is
// closed once answered, as by Kafka. On a server without SASL, or a connection
// already authenticated and not re-authenticating, it is ILLEGAL_SASL_STATE
// (Kafka's KafkaApis answer). The answer that completes the exchange carries
// the session's lifetime (v1+), Options.ConnectionsMaxReauth (0: the session
// does not expire, no re-authentication, KIP-368).
func handleSaslAuthenticate(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.SASLAuthenticateRequest)
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.Version = req.Version
	state := &r.conn.sasl
	if r.server.opts.SASL == nil || state.session == nil {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		resp.ErrorMessage = message("SaslAuthenticate request received after successful authentication")
		if r.server.opts.SASL == nil {
			resp.ErrorMessage = message("SASL authentication is not enabled on this listener")
		}
		return resp, nil
	}
	challenge, err := r.conn.saslStep(r.server, req.SASLAuthBytes)
	if err != nil {
		if errors.Is(err, ErrMalformedRequest) {
			return nil, err
		}
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = message(err.Error())
		r.conn.closeAfterResponse = fmt.Errorf("SASL authentication failed: %w", err)
		return resp, nil
	}
	resp.SASLAuthBytes = challenge
	if state.session == nil { // done
		resp.SessionLifetimeMillis = r.server.opts.ConnectionsMaxReauth.Milliseconds()
	}
	return resp, nil
}
