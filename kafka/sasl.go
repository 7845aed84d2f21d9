package kafka

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"time"
)

// SASL configures SASL authentication (Kafka's SASL_PLAINTEXT or, on a TLS
// listener, SASL_SSL): with it, every connection must authenticate (SaslHandshake,
// then SaslAuthenticate) before any request other than ApiVersions. The
// mechanisms served are SCRAM-SHA-512 and SCRAM-SHA-256 (with Users,
// SCRAMCredentials or Options.Credentials) and PLAIN, whose password travels in
// the clear: use PLAIN on a TLS listener unless the network is trusted. PLAIN
// checks the password against Password or Users if either is set, else
// against the user's SCRAM credential (SCRAM-SHA-512's, or else
// SCRAM-SHA-256's: the password salted with its salt and iterations must give
// its StoredKey).
//
// Users, Password and SCRAMCredentials are the users when any of them is set;
// a SASL with none of them set authenticates against Options.Credentials, the
// credential store that AlterUserScramCredentials changes.
type SASL struct {
	// Users maps each user's name to its password. NewServer salts each
	// password for SCRAM (NewSCRAMCredential) and keeps the passwords for PLAIN.
	Users map[string]string
	// Password, if not nil, is asked for a user's password for PLAIN instead of
	// Users: ok is false for a user that does not exist. It is called from the
	// connections' goroutines, concurrently.
	Password func(user string) (password string, ok bool)
	// SCRAMCredentials, if not nil, is asked for a user's stored credential for
	// a SCRAM mechanism (SCRAMSHA256 or SCRAMSHA512) instead of Users: ok is
	// false for a user without one. It is called concurrently, as Password.
	SCRAMCredentials func(mechanism, user string) (credential SCRAMCredential, ok bool)

	// scram is Users' passwords salted, by mechanism then user.
	scram map[string]map[string]SCRAMCredential
	// credentials is Options.Credentials when none of Users, Password and
	// SCRAMCredentials is set.
	credentials *Credentials
}

// saslPlain is PLAIN's name on the wire.
const saslPlain = "PLAIN"

// mechanisms is what SaslHandshake offers, in order of preference.
func (s *SASL) mechanisms() []string {
	var names []string
	if s.servesSCRAM() {
		names = append(names, SCRAMSHA512, SCRAMSHA256)
	}
	return append(names, saslPlain)
}

// servesSCRAM reports whether s has SCRAM credentials to check.
func (s *SASL) servesSCRAM() bool {
	return s.Users != nil || s.SCRAMCredentials != nil || s.credentials != nil
}

// scramCredential returns user's credential for mechanism.
func (s *SASL) scramCredential(mechanism, user string) (SCRAMCredential, bool) {
	switch {
	case s.SCRAMCredentials != nil:
		return s.SCRAMCredentials(mechanism, user)
	case s.credentials != nil:
		return s.credentials.Lookup(mechanism, user)
	}
	credential, ok := s.scram[mechanism][user]
	return credential, ok
}

// authenticationFailed is the message of a SaslAuthenticate refused, Kafka's.
const authenticationFailed = "Authentication failed: Invalid username or password"

// errAuthenticationFailed is a mechanism's refusal of the client's credentials.
var errAuthenticationFailed = errors.New(authenticationFailed)

// clone returns a copy of s that its caller cannot change afterwards, or
// problems found in it.
func (s *SASL) clone(credentials *Credentials) (*SASL, []string) {
	if s == nil {
		return nil, nil
	}
	c := *s
	c.credentials = nil
	if s.Users == nil && s.Password == nil && s.SCRAMCredentials == nil {
		if credentials == nil {
			return nil, []string{"SASL: none of Users, Password and SCRAMCredentials is set, and there is no Options.Credentials"}
		}
		c.credentials = credentials
	}
	c.Users = maps.Clone(s.Users)
	if c.Users != nil && c.SCRAMCredentials == nil {
		var problems []string
		c.scram = map[string]map[string]SCRAMCredential{}
		for _, mechanism := range []string{SCRAMSHA256, SCRAMSHA512} {
			c.scram[mechanism] = map[string]SCRAMCredential{}
			for user, password := range c.Users {
				credential, err := NewSCRAMCredential(mechanism, password, 0)
				if err != nil {
					problems = append(problems, fmt.Sprintf("SASL: Users[%q]: %v", user, err))
				}
				c.scram[mechanism][user] = credential
			}
		}
		if problems != nil {
			return nil, problems
		}
	}
	return &c, nil
}

// checkPassword reports whether password is user's, for PLAIN: against
// Password or Users if either is set, else against the user's SCRAM credential.
// Timing tells an unknown user from a wrong password as little as it can: the
// comparison, or a derivation of the same cost, is made for both.
func (s *SASL) checkPassword(user string, password []byte) bool {
	if s.Password != nil || s.Users != nil {
		var want string
		var ok bool
		if s.Password != nil {
			want, ok = s.Password(user)
		} else {
			want, ok = s.Users[user]
		}
		return subtle.ConstantTimeCompare([]byte(want), password) == 1 && ok
	}
	for _, mechanism := range []string{SCRAMSHA512, SCRAMSHA256} {
		if credential, ok := s.scramCredential(mechanism, user); ok {
			return credential.verifyPassword(mechanism, string(password))
		}
	}
	unknownUserCredential.verifyPassword(SCRAMSHA512, string(password))
	return false
}

// unknownUserCredential is what PLAIN checks the password of an unknown user
// against, to spend the time a known user's check does.
var unknownUserCredential = SCRAMCredential{Salt: make([]byte, 32), Iterations: DefaultSCRAMIterations, StoredKey: make([]byte, 64)}

// saslState is a connection's progress through authentication. Only the
// connection's goroutine touches it.
type saslState struct {
	// session is the exchange a SaslHandshake started; nil before one.
	session saslSession
	// raw is set by a SaslHandshake v0: the exchange's tokens then come as bare
	// length-prefixed frames rather than in SaslAuthenticate requests.
	raw bool
	// authenticated is set once the exchange has succeeded; user is then who,
	// and mechanism how. It stays set while the connection re-authenticates
	// (session not nil again).
	authenticated bool
	user          string
	mechanism     string
	// sessionMechanism is the mechanism of session.
	sessionMechanism string
	// expiry is when the authenticated session ends (Options.ConnectionsMaxReauth
	// after it began); zero: never. reauthenticated is when the last
	// re-authentication began.
	expiry          time.Time
	reauthenticated time.Time
}

// minReauthInterval is how often a connection may re-authenticate at most:
// Kafka's KafkaChannel.MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS.
const minReauthInterval = time.Second

// mayReauthenticate reports whether a SaslHandshake on an authenticated
// connection at now begins a re-authentication, as Kafka's
// KafkaChannel.maybeBeginServerReauthentication decides: the session has an
// expiry, and the last re-authentication began at least a second ago.
func (st *saslState) mayReauthenticate(now time.Time) bool {
	return st.authenticated && st.session == nil && !st.expiry.IsZero() &&
		(st.reauthenticated.IsZero() || now.Sub(st.reauthenticated) >= minReauthInterval)
}

// expired reports whether the authenticated session has ended at now.
func (st *saslState) expired(now time.Time) bool {
	return st.authenticated && !st.expiry.IsZero() && now.After(st.expiry)
}

// reauthBadMechanismSession is a re-authentication that asked for another
// mechanism than the connection authenticated with: Kafka answers the
// handshake, then closes the connection at the next token, unanswered
// (SaslServerAuthenticator's REAUTH_BAD_MECHANISM).
type reauthBadMechanismSession struct{ message string }

func (r reauthBadMechanismSession) user() string { return "" }

func (r reauthBadMechanismSession) step([]byte) ([]byte, bool, error) {
	return nil, false, fmt.Errorf("%w: %s", ErrMalformedRequest, r.message)
}

// saslSession is the server's side of one mechanism's exchange: step takes the
// client's next token and returns the server's answer, done once the client is
// authenticated, or an error that ends the exchange (errAuthenticationFailed
// for credentials refused).
type saslSession interface {
	step(token []byte) (challenge []byte, done bool, err error)
	user() string
}

// newSASLSession starts an exchange of mechanism, or returns nil for a mechanism
// not served.
func newSASLSession(config *SASL, mechanism string) saslSession {
	switch mechanism {
	case saslPlain:
		return &plainSession{config: config}
	case SCRAMSHA256, SCRAMSHA512:
		if config.servesSCRAM() {
			return &scramSession{config: config, mechanism: mechanism, newHash: scramHash(mechanism)}
		}
	}
	return nil
}

// plainSession is PLAIN (RFC 4616): one message from the client,
// "authzid NUL authcid NUL password", and an empty answer.
type plainSession struct {
	config   *SASL
	username string
}

func (p *plainSession) user() string { return p.username }

func (p *plainSession) step(token []byte) ([]byte, bool, error) {
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 {
		// Answered SASL_AUTHENTICATION_FAILED with Kafka's PlainSaslServer message,
		// as every refused exchange (not ErrMalformedRequest, which closes unanswered).
		return nil, false, fmt.Errorf("Invalid SASL/PLAIN response: expected 3 tokens, got %d", len(parts))
	}
	authorizationID, user, password := string(parts[0]), string(parts[1]), parts[2]
	if user == "" || len(password) == 0 {
		return nil, false, errAuthenticationFailed
	}
	if authorizationID != "" && authorizationID != user {
		return nil, false, errors.New("Authentication failed: Client requested an authorization id that is different from username")
	}
	if !p.config.checkPassword(user, password) {
		return nil, false, errAuthenticationFailed
	}
	p.username = user
	return []byte{}, true, nil
}
