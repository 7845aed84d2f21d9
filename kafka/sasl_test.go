package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// saslOptions are Options with one user, alice, whose password is "secret".
func saslOptions() *Options {
	return &Options{SASL: &SASL{Users: map[string]string{"alice": "secret"}}}
}

// allMechanisms is what SaslHandshake offers with Options.SASL.Users.
var allMechanisms = []string{"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"}

// plainToken is PLAIN's message for user and password.
func plainToken(user, password string) []byte {
	return []byte("\x00" + user + "\x00" + password)
}

// TestSASLPlainProduceConsume authenticates kgo with PLAIN and the right
// password, then produces and consumes.
func TestSASLPlainProduceConsume(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	ctx := context.Background()
	if err := ts.store.CreateTopic(ctx, "sasl", log.TopicConfig{Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	cl := ts.client(t, kgo.SASL(plain.Auth{User: "alice", Pass: "secret"}.AsMechanism()),
		kgo.ConsumeTopics("sasl"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "sasl", Value: []byte("authenticated")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fetches := cl.PollRecords(ctx, 1)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	if records := fetches.Records(); len(records) != 1 || string(records[0].Value) != "authenticated" {
		t.Fatalf("records %v, want the one produced", records)
	}
}

// TestSASLPlainOverTLS authenticates kgo with PLAIN on a TLS listener
// (Kafka's SASL_SSL).
func TestSASLPlainOverTLS(t *testing.T) {
	ts, clientConfig := startTLSServer(t, saslOptions())
	cl := ts.client(t, kgo.DialTLSConfig(clientConfig), kgo.SASL(plain.Auth{User: "alice", Pass: "secret"}.AsMechanism()))
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSASLPlainWrongPassword checks that a wrong password, or an unknown user,
// is SASL_AUTHENTICATION_FAILED for kgo.
func TestSASLPlainWrongPassword(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	for _, auth := range []plain.Auth{{User: "alice", Pass: "wrong"}, {User: "bob", Pass: "secret"}} {
		cl := ts.client(t, kgo.SASL(auth.AsMechanism()))
		if err := cl.Ping(context.Background()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Errorf("%s/%s: %v, want SASL_AUTHENTICATION_FAILED", auth.User, auth.Pass, err)
		}
	}
}

// TestSASLPlainWrongPasswordClosesConnection checks the exchange on the wire: a
// wrong password is answered SASL_AUTHENTICATION_FAILED with Kafka's message,
// then the connection is closed.
func TestSASLPlainWrongPasswordClosesConnection(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	c := ts.dial(t)
	handshake := kmsg.NewPtrSASLHandshakeRequest()
	handshake.Version, handshake.Mechanism = 1, "PLAIN"
	if resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 || !slices.Equal(resp.SupportedMechanisms, allMechanisms) {
		t.Fatalf("handshake: error %d, mechanisms %v", resp.ErrorCode, resp.SupportedMechanisms)
	}
	authenticate := kmsg.NewPtrSASLAuthenticateRequest()
	authenticate.Version, authenticate.SASLAuthBytes = 2, plainToken("alice", "wrong")
	resp := c.roundTrip(authenticate).(*kmsg.SASLAuthenticateResponse)
	if resp.ErrorCode != kerr.SaslAuthenticationFailed.Code || resp.ErrorMessage == nil || *resp.ErrorMessage != authenticationFailed {
		t.Fatalf("authenticate: error %d %v, want SASL_AUTHENTICATION_FAILED", resp.ErrorCode, resp.ErrorMessage)
	}
	c.expectClosed()
}

// TestSASLUnauthenticatedRefused checks that, with SASL on, a kgo client
// without SASL is refused, and that on the wire ApiVersions is answered before
// authentication but any other request closes the connection, as Kafka does.
func TestSASLUnauthenticatedRefused(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	cl := ts.client(t, kgo.RequestRetries(0))
	if err := cl.Ping(context.Background()); err == nil {
		t.Error("a client without SASL was answered")
	}

	c := ts.dial(t)
	versions := c.roundTrip(kmsg.NewPtrApiVersionsRequest()).(*kmsg.ApiVersionsResponse)
	if versions.ErrorCode != 0 {
		t.Fatalf("ApiVersions before authentication: error %d", versions.ErrorCode)
	}
	c.send(frame(kmsg.NewPtrMetadataRequest(), 8))
	c.expectClosed()

	// SaslAuthenticate before SaslHandshake is refused the same way.
	c = ts.dial(t)
	authenticate := kmsg.NewPtrSASLAuthenticateRequest()
	authenticate.SASLAuthBytes = plainToken("alice", "secret")
	c.send(frame(authenticate, 9))
	c.expectClosed()
}

// TestSASLUnsupportedMechanism checks that a mechanism not served is
// UNSUPPORTED_SASL_MECHANISM with the list of those served, then the connection
// is closed.
func TestSASLUnsupportedMechanism(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	c := ts.dial(t)
	handshake := kmsg.NewPtrSASLHandshakeRequest()
	handshake.Version, handshake.Mechanism = 1, "GSSAPI"
	resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse)
	if resp.ErrorCode != kerr.UnsupportedSaslMechanism.Code || !slices.Equal(resp.SupportedMechanisms, allMechanisms) {
		t.Fatalf("error %d, mechanisms %v; want UNSUPPORTED_SASL_MECHANISM, %v", resp.ErrorCode, resp.SupportedMechanisms, allMechanisms)
	}
	c.expectClosed()
}

// TestSASLHandshakeV0RawTokens authenticates with SaslHandshake v0, whose
// token goes as a bare frame and is answered by a bare (empty) frame; requests
// are then served. A wrong password closes the connection unanswered.
func TestSASLHandshakeV0RawTokens(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	for _, test := range []struct {
		password string
		accepted bool
	}{{"secret", true}, {"wrong", false}} {
		c := ts.dial(t)
		handshake := kmsg.NewPtrSASLHandshakeRequest()
		handshake.Version, handshake.Mechanism = 0, "PLAIN"
		if resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
			t.Fatalf("handshake v0: error %d", resp.ErrorCode)
		}
		token := plainToken("alice", test.password)
		c.send(binary.BigEndian.AppendUint32(nil, uint32(len(token))))
		c.send(token)
		if !test.accepted {
			c.expectClosed()
			continue
		}
		answer, err := c.readFrame()
		if err != nil || len(answer) != 0 {
			t.Fatalf("raw answer %q, %v; want an empty frame", answer, err)
		}
		if resp := c.roundTrip(kmsg.NewPtrMetadataRequest()).(*kmsg.MetadataResponse); len(resp.Brokers) != 1 {
			t.Fatalf("Metadata after authentication: brokers %v", resp.Brokers)
		}
	}
}

// TestSASLIllegalState checks Kafka's ILLEGAL_SASL_STATE answers: a
// SaslHandshake or SaslAuthenticate once authenticated, and either on a server
// without SASL.
func TestSASLIllegalState(t *testing.T) {
	check := func(t *testing.T, c *rawConn) {
		t.Helper()
		handshake := kmsg.NewPtrSASLHandshakeRequest()
		handshake.Version, handshake.Mechanism = 1, "PLAIN"
		if resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != kerr.IllegalSaslState.Code {
			t.Errorf("SaslHandshake: error %d, want ILLEGAL_SASL_STATE", resp.ErrorCode)
		}
		authenticate := kmsg.NewPtrSASLAuthenticateRequest()
		authenticate.SASLAuthBytes = plainToken("alice", "secret")
		if resp := c.roundTrip(authenticate).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != kerr.IllegalSaslState.Code {
			t.Errorf("SaslAuthenticate: error %d, want ILLEGAL_SASL_STATE", resp.ErrorCode)
		}
	}
	t.Run("authenticated", func(t *testing.T) {
		ts := startServer(t, saslOptions(), nil)
		c := ts.dial(t)
		handshake := kmsg.NewPtrSASLHandshakeRequest()
		handshake.Version, handshake.Mechanism = 1, "PLAIN"
		c.roundTrip(handshake)
		authenticate := kmsg.NewPtrSASLAuthenticateRequest()
		authenticate.Version, authenticate.SASLAuthBytes = 1, plainToken("alice", "secret")
		if resp := c.roundTrip(authenticate).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != 0 || resp.SessionLifetimeMillis != 0 {
			t.Fatalf("authenticate: error %d, lifetime %d", resp.ErrorCode, resp.SessionLifetimeMillis)
		}
		check(t, c)
	})
	t.Run("no SASL", func(t *testing.T) {
		check(t, startServer(t, nil, nil).dial(t))
	})
}

// TestSASLPasswordFunc authenticates through Options.SASL.Password instead of
// Users.
func TestSASLPasswordFunc(t *testing.T) {
	password := func(user string) (string, bool) { return "pw-of-" + user, user != "nobody" }
	ts := startServer(t, &Options{SASL: &SASL{Password: password}}, nil)
	if err := ts.client(t, kgo.SASL(plain.Auth{User: "carol", Pass: "pw-of-carol"}.AsMechanism())).Ping(context.Background()); err != nil {
		t.Errorf("carol: %v", err)
	}
	err := ts.client(t, kgo.SASL(plain.Auth{User: "nobody", Pass: "pw-of-nobody"}.AsMechanism())).Ping(context.Background())
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("nobody: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
}

// TestSASLOptions checks that SASL without users is invalid, and that the server
// keeps its own copy of Users.
func TestSASLOptions(t *testing.T) {
	if _, err := NewServer(nil, &Options{SASL: &SASL{}}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("SASL{}: %v, want ErrInvalidOptions", err)
	}
	opts := saslOptions()
	ts := startServer(t, opts, nil)
	opts.SASL.Users["alice"] = "changed"
	if err := ts.client(t, kgo.SASL(plain.Auth{User: "alice", Pass: "secret"}.AsMechanism())).Ping(context.Background()); err != nil {
		t.Errorf("after the caller changed its map: %v", err)
	}
}

// TestSASLMalformedTokenAnswered: a PLAIN token that is not three fields, and a
// SCRAM client-first message that does not parse, are answered
// SASL_AUTHENTICATION_FAILED (Kafka's SaslServerAuthenticator answers every
// refused exchange, malformed ones included), then the connection is closed.
func TestSASLMalformedTokenAnswered(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	for _, tc := range []struct {
		mechanism, token, message string
	}{
		{"PLAIN", "alice-without-separators", "Invalid SASL/PLAIN response: expected 3 tokens, got 1"},
		{"SCRAM-SHA-256", "not a scram message", "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"},
	} {
		c := ts.dial(t)
		handshake := kmsg.NewPtrSASLHandshakeRequest()
		handshake.Version, handshake.Mechanism = 1, tc.mechanism
		if resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
			t.Fatalf("%s handshake: error %d", tc.mechanism, resp.ErrorCode)
		}
		authenticate := kmsg.NewPtrSASLAuthenticateRequest()
		authenticate.Version, authenticate.SASLAuthBytes = 2, []byte(tc.token)
		resp := c.roundTrip(authenticate).(*kmsg.SASLAuthenticateResponse)
		if resp.ErrorCode != kerr.SaslAuthenticationFailed.Code || resp.ErrorMessage == nil || *resp.ErrorMessage != tc.message {
			t.Fatalf("%s: error %d %v, want SASL_AUTHENTICATION_FAILED %q", tc.mechanism, resp.ErrorCode, resp.ErrorMessage, tc.message)
		}
		c.expectClosed()
	}
}
