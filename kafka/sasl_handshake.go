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
// authenticated, is ILLEGAL_SASL_STATE (Kafka's KafkaApis answer). Version 0
// makes the exchange's tokens bare frames (before Kafka 1.0, KIP-152); version 1
// carries them in SaslAuthenticate.
func handleSaslHandshake(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.SASLHandshakeRequest)
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.Version = req.Version
	config := r.server.opts.SASL
	if config == nil || r.conn.sasl.authenticated {
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
	r.conn.sasl.session = session
	r.conn.sasl.raw = req.Version == 0
	return resp, nil
}
