package kafka

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleSaslHandshake answers SaslHandshake, as Kafka's SaslServerAuthenticator
// does: the mechanism asked for starts the connection's exchange, and the
// response lists the mechanisms served. A mechanism not served is
// UNSUPPORTED_SASL_MECHANISM and closes the connection once answered. A
// handshake on a server without SASL, or on a connection already
// authenticated that may not re-authenticate (see saslState.mayReauthenticate),
// is ILLEGAL_SASL_STATE (Kafka's KafkaApis answer). Version 0 makes the
// exchange's tokens bare frames (before Kafka 1.0, KIP-152); version 1 carries
// them in SaslAuthenticate.
//
// On an authenticated connection whose session has an expiry
// (Options.ConnectionsMaxReauth), a handshake begins a re-authentication
// (KIP-368), at most once a second: the mechanism must be the one the
// connection authenticated with (another one is answered, then the connection
// is closed at its first token, as Kafka does), and the exchange must end as
// the same user.
func handleSaslHandshake(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.SASLHandshakeRequest)
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.Version = req.Version
	config := r.server.opts.SASL
	state := &r.conn.sasl
	now := r.server.now()
	reauthenticating := state.authenticated && state.mayReauthenticate(now)
	if config == nil || (state.authenticated && !reauthenticating) {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp, nil
	}
	resp.SupportedMechanisms = config.mechanisms()
	session := newSASLSession(config, req.Mechanism)
	if session == nil {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		r.conn.closeAfterResponse = fmt.Errorf("unsupported SASL mechanism %q", req.Mechanism)
		return resp, nil
	}
	if reauthenticating {
		state.reauthenticated = now
		if req.Mechanism != state.mechanism {
			session = reauthBadMechanismSession{fmt.Sprintf(
				"SASL mechanism '%s' requested by client is not supported for re-authentication of mechanism '%s'",
				req.Mechanism, state.mechanism)}
		}
	}
	state.session = session
	state.sessionMechanism = req.Mechanism
	state.raw = req.Version == 0
	return resp, nil
}
