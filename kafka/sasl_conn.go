package kafka

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// checkAuthenticated returns an error, which closes c, for a request of key that
// c may not send yet: with SASL on, before authenticating, only ApiVersions and
// SaslHandshake, then (once a handshake has chosen a mechanism) only
// SaslAuthenticate. Kafka's SaslServerAuthenticator closes the connection the same
// way (IllegalSaslStateException).
func (c *conn) checkAuthenticated(s *Server, key int16) error {
	if s.opts.SASL == nil || c.sasl.authenticated {
		return nil
	}
	switch {
	case c.sasl.session == nil && (key == kmsg.ApiVersions.Int16() || key == kmsg.SASLHandshake.Int16()):
		return nil
	case c.sasl.session != nil && key == kmsg.SASLAuthenticate.Int16():
		return nil
	}
	return fmt.Errorf("unexpected Kafka request of type %s during SASL authentication", kmsg.NameForKey(key))
}

// saslStep gives the client's token to c's exchange and returns the server's
// answer; once the exchange is done, c is authenticated.
func (c *conn) saslStep(token []byte) ([]byte, error) {
	challenge, done, err := c.sasl.session.step(token)
	if err != nil {
		return nil, err
	}
	if done {
		c.sasl.authenticated = true
		c.sasl.user = c.sasl.session.user()
		c.sasl.session = nil
		c.sasl.raw = false
	}
	return challenge, nil
}

// serveRawSASL serves one token of an exchange after a SaslHandshake v0: the
// frame is the bare token, the answer a bare length-prefixed token. A refusal
// closes the connection unanswered, as Kafka does (v0 has no way to say why).
func (s *Server) serveRawSASL(c *conn, token []byte) error {
	challenge, err := c.saslStep(token)
	if err != nil {
		return fmt.Errorf("SASL authentication failed: %w", err)
	}
	c.out = binary.BigEndian.AppendUint32(c.out[:0], uint32(len(challenge)))
	c.out = append(c.out, challenge...)
	c.markIdle(s)
	_, err = c.nc.Write(c.out)
	return err
}
