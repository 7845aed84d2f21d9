package kafka

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestSASLSCRAM authenticates kgo with SCRAM-SHA-256 and SCRAM-SHA-512 against
// Users (salted by the server): the right password works (kgo checks the
// server's signature too), a wrong one or an unknown user is
// SASL_AUTHENTICATION_FAILED.
func TestSASLSCRAM(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	mechanisms := map[string]func(scram.Auth) sasl.Mechanism{
		"SCRAM-SHA-256": scram.Auth.AsSha256Mechanism,
		"SCRAM-SHA-512": scram.Auth.AsSha512Mechanism,
	}
	for name, mechanism := range mechanisms {
		t.Run(name, func(t *testing.T) {
			ok := ts.client(t, kgo.SASL(mechanism(scram.Auth{User: "alice", Pass: "secret"})))
			if err := ok.Ping(context.Background()); err != nil {
				t.Errorf("right password: %v", err)
			}
			for _, auth := range []scram.Auth{{User: "alice", Pass: "wrong"}, {User: "bob", Pass: "secret"}} {
				err := ts.client(t, kgo.SASL(mechanism(auth))).Ping(context.Background())
				if !errors.Is(err, kerr.SaslAuthenticationFailed) {
					t.Errorf("%s/%s: %v, want SASL_AUTHENTICATION_FAILED", auth.User, auth.Pass, err)
				}
			}
		})
	}
}

// TestSASLSCRAMCredentials authenticates against stored credentials
// (SASL.SCRAMCredentials, made by NewSCRAMCredential), a user name that needs
// escaping included; PLAIN is checked against them too.
func TestSASLSCRAMCredentials(t *testing.T) {
	const user = "team=a,b"
	stored := map[string]SCRAMCredential{}
	for _, mechanism := range []string{SCRAMSHA256, SCRAMSHA512} {
		credential, err := NewSCRAMCredential(mechanism, "pa,ss=word", 8192)
		if err != nil {
			t.Fatal(err)
		}
		stored[mechanism] = credential
	}
	lookup := func(mechanism, name string) (SCRAMCredential, bool) {
		credential, ok := stored[mechanism]
		return credential, ok && name == user
	}
	ts := startServer(t, &Options{SASL: &SASL{SCRAMCredentials: lookup}}, nil)
	for _, mechanism := range []sasl.Mechanism{
		scram.Auth{User: user, Pass: "pa,ss=word"}.AsSha256Mechanism(),
		scram.Auth{User: user, Pass: "pa,ss=word"}.AsSha512Mechanism(),
	} {
		if err := ts.client(t, kgo.SASL(mechanism)).Ping(context.Background()); err != nil {
			t.Errorf("%s: %v", mechanism.Name(), err)
		}
	}

	c := ts.dial(t)
	handshake := kmsg.NewPtrSASLHandshakeRequest()
	handshake.Version, handshake.Mechanism = 1, "PLAIN"
	resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse)
	if resp.ErrorCode != 0 || !slices.Equal(resp.SupportedMechanisms, allMechanisms) {
		t.Errorf("PLAIN: error %d, mechanisms %v; want none, %v", resp.ErrorCode, resp.SupportedMechanisms, allMechanisms)
	}
	// PLAIN is checked against the SCRAM credentials: the password salted
	// with their salt and iterations must give their StoredKey.
	if err := ts.client(t, kgo.SASL(plain.Auth{User: user, Pass: "pa,ss=word"}.AsMechanism())).Ping(context.Background()); err != nil {
		t.Errorf("kgo with PLAIN and the right password: %v", err)
	}
	for _, auth := range []plain.Auth{{User: user, Pass: "pa,ss=wore"}, {User: "nobody", Pass: "pa,ss=word"}} {
		err := ts.client(t, kgo.SASL(auth.AsMechanism())).Ping(context.Background())
		if !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Errorf("kgo with PLAIN as %q/%q: %v, want SASL_AUTHENTICATION_FAILED", auth.User, auth.Pass, err)
		}
	}
}

// TestSASLSCRAMWrongProofOnTheWire checks the exchange on the wire: a client
// final message with a wrong proof is SASL_AUTHENTICATION_FAILED with Kafka's
// message, and the connection is closed.
func TestSASLSCRAMWrongProofOnTheWire(t *testing.T) {
	ts := startServer(t, saslOptions(), nil)
	c := ts.dial(t)
	handshake := kmsg.NewPtrSASLHandshakeRequest()
	handshake.Version, handshake.Mechanism = 1, "SCRAM-SHA-256"
	if resp := c.roundTrip(handshake).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
		t.Fatalf("handshake: error %d", resp.ErrorCode)
	}
	first := kmsg.NewPtrSASLAuthenticateRequest()
	first.Version, first.SASLAuthBytes = 2, []byte("n,,n=alice,r=clientnonce")
	serverFirst := c.roundTrip(first).(*kmsg.SASLAuthenticateResponse)
	if serverFirst.ErrorCode != 0 {
		t.Fatalf("client first: error %d", serverFirst.ErrorCode)
	}
	nonce, _, _ := bytes.Cut(serverFirst.SASLAuthBytes, []byte(","))
	final := kmsg.NewPtrSASLAuthenticateRequest()
	final.Version = 2
	final.SASLAuthBytes = append([]byte("c=biws,"), nonce...)
	final.SASLAuthBytes = append(final.SASLAuthBytes, ",p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="...)
	resp := c.roundTrip(final).(*kmsg.SASLAuthenticateResponse)
	want := "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
	if resp.ErrorCode != kerr.SaslAuthenticationFailed.Code || resp.ErrorMessage == nil || *resp.ErrorMessage != want {
		t.Fatalf("client final: error %d %v, want SASL_AUTHENTICATION_FAILED %q", resp.ErrorCode, resp.ErrorMessage, want)
	}
	c.expectClosed()
}

// TestSCRAMNameEscaping is a table of RFC 5802's saslname decoding.
func TestSCRAMNameEscaping(t *testing.T) {
	for _, test := range []struct {
		in, want string
		ok       bool
	}{
		{"alice", "alice", true},
		{"a=2Cb", "a,b", true},
		{"a=3D=3D", "a==", true},
		{"a=", "", false},
		{"a=2D", "", false},
	} {
		got, ok := unescapeSCRAMName(test.in)
		if got != test.want || ok != test.ok {
			t.Errorf("%q: %q, %v; want %q, %v", test.in, got, ok, test.want, test.ok)
		}
	}
}

// TestNewSCRAMCredentialInvalid checks NewSCRAMCredential's refusals.
func TestNewSCRAMCredentialInvalid(t *testing.T) {
	if _, err := NewSCRAMCredential("SCRAM-SHA-1", "pw", 0); err == nil {
		t.Error("SCRAM-SHA-1 accepted")
	}
	if _, err := NewSCRAMCredential(SCRAMSHA256, "pw", 100); err == nil {
		t.Error("100 iterations accepted")
	}
}
