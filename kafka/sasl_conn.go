package kafka

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// checkAuthenticated returns an error, which closes c, for a request of key that
// c may not send now: with SASL on, before authenticating, only ApiVersions and
// SaslHandshake, then (once a handshake has chosen a mechanism) only
// SaslAuthenticate, during a re-authentication too. Kafka's
// SaslServerAuthenticator closes the connection the same way
// (IllegalSaslStateException). Once the authenticated session has expired
// (Options.ConnectionsMaxReauth), any request but a SaslHandshake that begins a
// re-authentication closes c, as Kafka's SocketServer does ("Disconnecting
// expired channel").
func (c *conn) checkAuthenticated(s *Server, key int16) error {
	if s.opts.SASL == nil {
		return nil
	}
	if c.sasl.session != nil {
		if key == kmsg.SASLAuthenticate.Int16() {
			return nil
		}
		return fmt.Errorf("unexpected Kafka request of type %s during SASL authentication", kmsg.NameForKey(key))
	}
	if !c.sasl.authenticated {
		if key == kmsg.ApiVersions.Int16() || key == kmsg.SASLHandshake.Int16() {
			return nil
		}
		return fmt.Errorf("unexpected Kafka request of type %s during SASL authentication", kmsg.NameForKey(key))
	}
	now := s.now()
	if key == kmsg.SASLHandshake.Int16() && c.sasl.mayReauthenticate(now) {
		return nil
	}
	if c.sasl.expired(now) {
		return fmt.Errorf("SASL session of %q expired at %s (connections.max.reauth %v): %s without re-authenticating",
			c.sasl.user, c.sasl.expiry.Format(time.RFC3339Nano), s.opts.ConnectionsMaxReauth, kmsg.NameForKey(key))
	}
	return nil
}

// saslStep gives the client's token to c's exchange and returns the server's
// answer; once the exchange is done, c is authenticated, until
// Options.ConnectionsMaxReauth from now. A re-authentication must end as the
// user the connection authenticated as (Kafka's ensurePrincipalUnchanged).
func (c *conn) saslStep(s *Server, token []byte) ([]byte, error) {
	challenge, done, err := c.sasl.session.step(token)
	if err != nil {
		return nil, err
	}
	if done {
		user := c.sasl.session.user()
		if c.sasl.authenticated && user != c.sasl.user {
			return nil, fmt.Errorf("Cannot change principals during re-authentication from User.%s: User.%s", c.sasl.user, user)
		}
		c.sasl.authenticated = true
		c.sasl.user = user
		c.sasl.mechanism = c.sasl.sessionMechanism
		c.sasl.session = nil
		c.sasl.raw = false
		c.sasl.expiry = time.Time{}
		if lifetime := s.opts.ConnectionsMaxReauth; lifetime > 0 {
			c.sasl.expiry = s.now().Add(lifetime)
		}
	}
	return challenge, nil
}

// serveRawSASL serves one token of an exchange after a SaslHandshake v0: the
// frame is the bare token, the answer a bare length-prefixed token. A refusal
// closes the connection unanswered, as Kafka does (v0 has no way to say why).
func (s *Server) serveRawSASL(c *conn, token []byte) error {
	challenge, err := c.saslStep(s, token)
	if err != nil {
		return fmt.Errorf("SASL authentication failed: %w", err)
	}
	c.out = binary.BigEndian.AppendUint32(c.out[:0], uint32(len(challenge)))
	c.out = append(c.out, challenge...)
	c.markIdle(s)
	_, err = c.nc.Write(c.out)
	return err
}
