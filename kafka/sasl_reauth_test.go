package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// testClock is a clock that moves only when the test says.
type testClock struct{ nanos atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.nanos.Store(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) now() time.Time           { return time.Unix(0, c.nanos.Load()) }
func (c *testClock) advance(d time.Duration)  { c.nanos.Add(int64(d)) }
func (c *testClock) install() func(s *Server) { return func(s *Server) { s.now = c.now } }
func reauthOptions(lifetime time.Duration) *Options {
	opts := saslOptions()
	opts.ConnectionsMaxReauth = lifetime
	return opts
}

// authenticatePlain authenticates c with PLAIN (SaslAuthenticate v2) as user
// and returns the answer.
func authenticatePlain(t *testing.T, c *rawConn, user, password string) *kmsg.SASLAuthenticateResponse {
	t.Helper()
	handshake := kmsg.NewPtrSASLHandshakeRequest()
	handshake.Version, handshake.Mechanism = 1, "PLAIN"
	if resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
		t.Fatalf("SaslHandshake: error %d", resp.ErrorCode)
	}
	authenticate := kmsg.NewPtrSASLAuthenticateRequest()
	authenticate.Version, authenticate.SASLAuthBytes = 2, plainToken(user, password)
	return c.roundTrip(authenticate).(*kmsg.SASLAuthenticateResponse)
}

// metadataOK sends a Metadata request on c and checks it is answered.
func metadataOK(t *testing.T, c *rawConn) {
	t.Helper()
	if resp := c.roundTrip(kmsg.NewPtrMetadataRequest()).(*kmsg.MetadataResponse); len(resp.Brokers) != 1 {
		t.Fatalf("Metadata: %+v", resp)
	}
}

// TestSASLSessionExpires checks KIP-368's session lifetime on the wire, on a
// test clock: SaslAuthenticate tells it, requests are served until it ends,
// and the first request after closes the connection unanswered.
func TestSASLSessionExpires(t *testing.T) {
	clock := newTestClock()
	ts := startServer(t, reauthOptions(time.Minute), clock.install())
	c := ts.dial(t)
	if resp := authenticatePlain(t, c, "alice", "secret"); resp.ErrorCode != 0 || resp.SessionLifetimeMillis != 60000 {
		t.Fatalf("SaslAuthenticate: error %d, lifetime %d ms; want none, 60000", resp.ErrorCode, resp.SessionLifetimeMillis)
	}
	metadataOK(t, c)
	clock.advance(time.Minute)
	metadataOK(t, c) // at the expiry: still the session
	clock.advance(time.Millisecond)
	c.send(frame(kmsg.NewPtrMetadataRequest(), 9))
	c.expectClosed()
}

// TestSASLReauthenticate re-authenticates a connection as Kafka allows
// (KIP-368): the same mechanism and user, at most once a second, the session
// then running from the re-authentication; and checks what Kafka refuses.
func TestSASLReauthenticate(t *testing.T) {
	clock := newTestClock()
	opts := reauthOptions(time.Minute)
	opts.SASL.Users["bob"] = "bobs"
	ts := startServer(t, opts, clock.install())
	handshake := func(mechanism string) *kmsg.SASLHandshakeRequest {
		req := kmsg.NewPtrSASLHandshakeRequest()
		req.Version, req.Mechanism = 1, mechanism
		return req
	}
	authenticate := func(user, password string) *kmsg.SASLAuthenticateRequest {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version, req.SASLAuthBytes = 2, plainToken(user, password)
		return req
	}

	t.Run("same user", func(t *testing.T) {
		c := ts.dial(t)
		if resp := authenticatePlain(t, c, "alice", "secret"); resp.ErrorCode != 0 {
			t.Fatalf("authenticate: %d", resp.ErrorCode)
		}
		clock.advance(50 * time.Second)
		if resp := c.roundTrip(handshake("PLAIN")).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
			t.Fatalf("re-authentication's handshake: error %d", resp.ErrorCode)
		}
		if resp := c.roundTrip(authenticate("alice", "secret")).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != 0 || resp.SessionLifetimeMillis != 60000 {
			t.Fatalf("re-authentication: error %d, lifetime %d", resp.ErrorCode, resp.SessionLifetimeMillis)
		}
		// Again within a second: not a re-authentication, ILLEGAL_SASL_STATE.
		clock.advance(999 * time.Millisecond)
		if resp := c.roundTrip(handshake("PLAIN")).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != kerr.IllegalSaslState.Code {
			t.Errorf("a second handshake within a second: error %d, want ILLEGAL_SASL_STATE", resp.ErrorCode)
		}
		clock.advance(50 * time.Second) // past the first session, within the second
		metadataOK(t, c)
		// After the session ended, a handshake still begins one.
		clock.advance(time.Minute)
		if resp := c.roundTrip(handshake("PLAIN")).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
			t.Fatalf("handshake after the session ended: error %d", resp.ErrorCode)
		}
		if resp := c.roundTrip(authenticate("alice", "secret")).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != 0 {
			t.Fatalf("re-authentication after the session ended: error %d", resp.ErrorCode)
		}
		metadataOK(t, c)
	})
	t.Run("handshake v0", func(t *testing.T) {
		// A client of SaslAuthenticate v0 (or none) is disconnected at the end
		// of its session, or re-authenticates with bare tokens.
		c := ts.dial(t)
		authenticatePlain(t, c, "alice", "secret")
		clock.advance(2 * time.Second)
		v0 := handshake("PLAIN")
		v0.Version = 0
		if resp := c.roundTrip(v0).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
			t.Fatalf("handshake v0: error %d", resp.ErrorCode)
		}
		token := plainToken("alice", "secret")
		c.send(binary.BigEndian.AppendUint32(nil, uint32(len(token))))
		c.send(token)
		if answer, err := c.readFrame(); err != nil || len(answer) != 0 {
			t.Fatalf("raw answer %q, %v; want an empty frame", answer, err)
		}
		clock.advance(59 * time.Second) // within the new session
		metadataOK(t, c)
	})
	t.Run("another user", func(t *testing.T) {
		c := ts.dial(t)
		authenticatePlain(t, c, "alice", "secret")
		clock.advance(2 * time.Second)
		c.roundTrip(handshake("PLAIN"))
		resp := c.roundTrip(authenticate("bob", "bobs")).(*kmsg.SASLAuthenticateResponse)
		const want = "Cannot change principals during re-authentication from User.alice: User.bob"
		if resp.ErrorCode != kerr.SaslAuthenticationFailed.Code || resp.ErrorMessage == nil || *resp.ErrorMessage != want {
			t.Errorf("re-authenticating as bob: error %d %v, want SASL_AUTHENTICATION_FAILED %q", resp.ErrorCode, resp.ErrorMessage, want)
		}
		c.expectClosed()
	})
	t.Run("wrong password", func(t *testing.T) {
		c := ts.dial(t)
		authenticatePlain(t, c, "alice", "secret")
		clock.advance(2 * time.Second)
		c.roundTrip(handshake("PLAIN"))
		if resp := c.roundTrip(authenticate("alice", "wrong")).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != kerr.SaslAuthenticationFailed.Code {
			t.Errorf("re-authenticating with a wrong password: error %d, want SASL_AUTHENTICATION_FAILED", resp.ErrorCode)
		}
		c.expectClosed()
	})
	t.Run("another mechanism", func(t *testing.T) {
		c := ts.dial(t)
		authenticatePlain(t, c, "alice", "secret")
		clock.advance(2 * time.Second)
		if resp := c.roundTrip(handshake("SCRAM-SHA-256")).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
			t.Fatalf("handshake: error %d, want none (Kafka refuses at the next token)", resp.ErrorCode)
		}
		first := kmsg.NewPtrSASLAuthenticateRequest()
		first.Version, first.SASLAuthBytes = 2, []byte("n,,n=alice,r=nonce")
		c.send(frame(first, 7))
		c.expectClosed()
	})
	t.Run("request during re-authentication", func(t *testing.T) {
		c := ts.dial(t)
		authenticatePlain(t, c, "alice", "secret")
		clock.advance(2 * time.Second)
		c.roundTrip(handshake("PLAIN"))
		c.send(frame(kmsg.NewPtrMetadataRequest(), 8))
		c.expectClosed()
	})
}

// TestSASLReauthenticateWithKgo has kgo re-authenticate by itself: with a
// session lifetime of a millisecond, kgo re-authenticates before each request
// (its margin is a second), on the connection it has. The test clock moves two
// seconds at each SaslAuthenticate, so that each re-authentication begins past
// Kafka's once-a-second limit and each session lasts until the request that
// follows it (kgo may re-authenticate twice before a request it had to park
// until the responses in flight drained). The requests go to the seed broker
// only (Client.SeedBrokers), so that kgo's metadata loop sends nothing. Each
// request goes through at least one SaslHandshake, and no new connection is
// dialed.
func TestSASLReauthenticateWithKgo(t *testing.T) {
	clock := newTestClock()
	var handshakes atomic.Int32
	ts := startServer(t, reauthOptions(time.Millisecond), func(s *Server) {
		s.now = clock.now
		s.beforeHandle = func(key int16) {
			switch key {
			case kmsg.SASLHandshake.Int16():
				handshakes.Add(1)
			case kmsg.SASLAuthenticate.Int16():
				clock.advance(2 * time.Second)
			}
		}
	})
	var dials atomic.Int32
	dialer := &net.Dialer{}
	cl := ts.client(t, kgo.SASL(scram.Auth{User: "alice", Pass: "secret"}.AsSha512Mechanism()),
		kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, host)
		}))
	ctx := context.Background()
	seed := cl.SeedBrokers()[0]
	const requests = 5
	for range requests {
		if _, err := seed.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
			t.Fatal(err)
		}
	}
	if got := dials.Load(); got != 1 {
		t.Errorf("%d connections dialed, want 1: kgo reconnected rather than re-authenticated", got)
	}
	// One to authenticate, then at least one re-authentication per request.
	if got := handshakes.Load(); got < 1+requests {
		t.Errorf("%d SaslHandshakes, want at least %d", got, 1+requests)
	}
}

// TestSASLReauthOptions checks ConnectionsMaxReauth's bounds.
func TestSASLReauthOptions(t *testing.T) {
	for _, lifetime := range []time.Duration{-time.Second, time.Microsecond} {
		if _, err := NewServer(nil, reauthOptions(lifetime)); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%v: %v, want ErrInvalidOptions", lifetime, err)
		}
	}
}

// TestSASLReauthenticateDeletedUser deletes a user from the credential store
// while it has a connection: the connection works until its session ends, and
// its re-authentication is refused.
func TestSASLReauthenticateDeletedUser(t *testing.T) {
	clock := newTestClock()
	opts := credentialServerOptions(t, t.TempDir())
	opts.ConnectionsMaxReauth = time.Minute
	if err := opts.Credentials.SetPassword(SCRAMSHA512, "alice", "secret", 0); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, opts, clock.install())
	c := ts.dial(t)
	if resp := authenticatePlain(t, c, "alice", "secret"); resp.ErrorCode != 0 {
		t.Fatalf("authenticate: error %d", resp.ErrorCode)
	}
	if err := opts.Credentials.Delete(SCRAMSHA512, "alice"); err != nil {
		t.Fatal(err)
	}
	clock.advance(30 * time.Second)
	metadataOK(t, c)
	handshake := kmsg.NewPtrSASLHandshakeRequest()
	handshake.Version, handshake.Mechanism = 1, "PLAIN"
	c.roundTrip(handshake)
	authenticate := kmsg.NewPtrSASLAuthenticateRequest()
	authenticate.Version, authenticate.SASLAuthBytes = 2, plainToken("alice", "secret")
	if resp := c.roundTrip(authenticate).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != kerr.SaslAuthenticationFailed.Code {
		t.Errorf("re-authenticating a deleted user: error %d, want SASL_AUTHENTICATION_FAILED", resp.ErrorCode)
	}
	c.expectClosed()
}
