package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/kafka"
	"github.com/stratalog/strata/kafka/internal/testcert"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestServeUntilCanceled starts the command on a directory that does not exist
// yet, advertising another address, asks it for Metadata through a Kafka client,
// and stops it as SIGINT would: it exits 0, and the store is in the directory.
func TestServeUntilCanceled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		exit <- run(ctx, []string{"--dir", dir, "--listen", "127.0.0.1:0", "--advertised-listener", "localhost:19092"},
			&stderr, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case code := <-exit:
		t.Fatalf("exit %d before listening: %s", code, stderr.String())
	}

	// Metadata advertises the other address: a client that followed it would
	// reach nothing here, so ask one request on the seed connection only.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 1 || meta.Brokers[0].Host != "localhost" || meta.Brokers[0].Port != 19092 {
		t.Errorf("brokers %+v, want node 0 at localhost:19092", meta.Brokers)
	}
	cl.Close()

	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Errorf("the store's directory: %v, %d entries", err, len(entries))
	}
}

// TestUsage checks that a missing --dir is a usage error.
func TestUsage(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), nil, &stderr, nil); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

// TestServeTLS starts the command with a certificate and key made by the test,
// and reaches it with a kgo client over TLS.
func TestServeTLS(t *testing.T) {
	files := t.TempDir()
	certPEM, keyPEM := testcert.New(t)
	certFile, keyFile := filepath.Join(files, "cert.pem"), filepath.Join(files, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		exit <- run(ctx, []string{"--dir", t.TempDir(), "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile},
			&stderr, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case code := <-exit:
		t.Fatalf("exit %d before listening: %s", code, stderr.String())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr.String()), kgo.DialTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// TestTLSFlagsTogether checks that --tls-cert without --tls-key (or the other
// way round) is a usage error.
func TestTLSFlagsTogether(t *testing.T) {
	for _, args := range [][]string{{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}} {
		var stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"--dir", t.TempDir()}, args...), &stderr, nil); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// startCommand runs the command with args until the returned stop is called,
// and returns the address it listens on.
func startCommand(t *testing.T, args ...string) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		exit <- run(ctx, append(args, "--listen", "127.0.0.1:0"), &stderr, func(a net.Addr) { addrs <- a })
	}()
	select {
	case a := <-addrs:
		addr = a.String()
	case code := <-exit:
		cancel()
		t.Fatalf("exit %d before listening: %s", code, stderr.String())
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-exit; code != 0 {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	}
	t.Cleanup(stop)
	return addr, stop
}

// users runs `strata-kafka users args...` with stdin and returns its exit code
// and output.
func users(stdin string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := runUsers(args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// pingAs returns the error of a Ping by a new client authenticating with
// mechanism.
func pingAs(t *testing.T, addr string, mechanism sasl.Mechanism) error {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.SASL(mechanism))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return cl.Ping(context.Background())
}

// TestServeSASL adds a user with `users add` before starting the command with
// --sasl: it authenticates with SCRAM and PLAIN, a wrong password does not.
// While the server runs, a user added by `users add` authenticates at once, one
// deleted by `users delete` no longer does, and a user added through the
// server (kadm's AlterUserSCRAMs) is listed by `users list`; a restart keeps
// them.
func TestServeSASL(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := users("s3cret: with colon\n", "add", "--dir", dir, "--user", "alice"); code != 0 {
		t.Fatalf("users add alice: exit %d: %s", code, stderr)
	}
	addr, stop := startCommand(t, "--dir", dir, "--sasl")
	for _, test := range []struct {
		mechanism sasl.Mechanism
		want      error
	}{
		{scram.Auth{User: "alice", Pass: "s3cret: with colon"}.AsSha512Mechanism(), nil},
		{scram.Auth{User: "alice", Pass: "s3cret: with colon"}.AsSha256Mechanism(), nil},
		{plain.Auth{User: "alice", Pass: "s3cret: with colon"}.AsMechanism(), nil},
		{scram.Auth{User: "alice", Pass: "wrong"}.AsSha512Mechanism(), kerr.SaslAuthenticationFailed},
		{scram.Auth{User: "bob", Pass: "pw"}.AsSha512Mechanism(), kerr.SaslAuthenticationFailed},
	} {
		if err := pingAs(t, addr, test.mechanism); !errors.Is(err, test.want) {
			t.Errorf("%s: %v, want %v", test.mechanism.Name(), err, test.want)
		}
	}

	bob := scram.Auth{User: "bob", Pass: "bobs pw"}.AsSha256Mechanism()
	if code, _, stderr := users("bobs pw\r\n", "add", "--dir", dir, "--user", "bob", "--mechanism", "SCRAM-SHA-256", "--iterations", "5000"); code != 0 {
		t.Fatalf("users add bob: exit %d: %s", code, stderr)
	}
	if err := pingAs(t, addr, bob); err != nil {
		t.Errorf("bob, added while the server runs: %v", err)
	}
	if code, _, stderr := users("", "delete", "--dir", dir, "--user", "alice"); code != 0 {
		t.Fatalf("users delete alice: exit %d: %s", code, stderr)
	}
	if err := pingAs(t, addr, scram.Auth{User: "alice", Pass: "s3cret: with colon"}.AsSha512Mechanism()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("alice, deleted while the server runs: %v, want SASL_AUTHENTICATION_FAILED", err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.SASL(bob))
	if err != nil {
		t.Fatal(err)
	}
	altered, err := kadm.NewClient(cl).AlterUserSCRAMs(context.Background(), nil, []kadm.UpsertSCRAM{{User: "carol", Mechanism: kadm.ScramSha512, Password: "carols"}})
	cl.Close()
	if err != nil || !altered.Ok() {
		t.Fatalf("AlterUserSCRAMs: %v, %v", altered, err)
	}
	want := "bob\tSCRAM-SHA-256\titerations=5000\ncarol\tSCRAM-SHA-512\titerations=4096\n"
	if code, stdout, stderr := users("", "list", "--dir", dir); code != 0 || stdout != want {
		t.Errorf("users list: exit %d %q %s; want %q", code, stdout, stderr, want)
	}

	stop()
	addr, _ = startCommand(t, "--dir", dir, "--sasl")
	if err := pingAs(t, addr, scram.Auth{User: "carol", Pass: "carols"}.AsSha512Mechanism()); err != nil {
		t.Errorf("carol after a restart: %v", err)
	}
	if err := pingAs(t, addr, bob); err != nil {
		t.Errorf("bob after a restart: %v", err)
	}
}

// TestUsersCommand is a table of `strata-kafka users` command lines: what they
// print, their exit codes, and that the file never holds the password.
func TestUsersCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	for _, step := range []struct {
		stdin  string
		args   []string
		code   int
		stdout string
	}{
		{"", []string{"list", "--dir", dir}, 0, ""},
		{"pw-of-alice\nignored\n", []string{"add", "--dir", dir, "--user", "alice"}, 0,
			"alice\tSCRAM-SHA-512\titerations=4096\tset\nalice\tSCRAM-SHA-256\titerations=4096\tset\n"},
		{"pw-of-bob", []string{"add", "--dir", dir, "--user", "bob", "--mechanism", "SCRAM-SHA-512", "--iterations", "16384"}, 0,
			"bob\tSCRAM-SHA-512\titerations=16384\tset\n"},
		{"", []string{"list", "--dir", dir}, 0,
			"alice\tSCRAM-SHA-256\titerations=4096\nalice\tSCRAM-SHA-512\titerations=4096\nbob\tSCRAM-SHA-512\titerations=16384\n"},
		{"", []string{"delete", "--dir", dir, "--user", "alice", "--mechanism", "SCRAM-SHA-256"}, 0, "alice\tSCRAM-SHA-256\tdeleted\n"},
		{"", []string{"delete", "--dir", dir, "--user", "alice", "--mechanism", "SCRAM-SHA-256"}, 1, ""},
		{"", []string{"delete", "--dir", dir, "--user", "nobody"}, 1, ""},
		{"", []string{"delete", "--dir", dir, "--user", "alice"}, 0, "alice\tSCRAM-SHA-512\tdeleted\n"},
		{"", []string{"list", "--dir", dir}, 0, "bob\tSCRAM-SHA-512\titerations=16384\n"},
		// Failures that change nothing.
		{"", []string{"add", "--dir", dir, "--user", "carol"}, 1, ""},
		{"\n", []string{"add", "--dir", dir, "--user", "carol"}, 1, ""},
		{"pw\n", []string{"add", "--dir", dir, "--user", "carol", "--iterations", "4095"}, 1, ""},
		// Usage errors.
		{"", nil, 2, ""},
		{"", []string{"rename", "--dir", dir}, 2, ""},
		{"", []string{"list"}, 2, ""},
		{"", []string{"list", "--dir", dir, "--user", "bob"}, 2, ""},
		{"pw\n", []string{"add", "--dir", dir}, 2, ""},
		{"pw\n", []string{"add", "--dir", dir, "--user", "carol", "--mechanism", "PLAIN"}, 2, ""},
		{"", []string{"delete", "--dir", dir, "--user", "bob", "extra"}, 2, ""},
	} {
		code, stdout, stderr := users(step.stdin, step.args...)
		if code != step.code || stdout != step.stdout {
			t.Errorf("users %v: exit %d, %q (stderr %q); want %d, %q", step.args, code, stdout, stderr, step.code, step.stdout)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, kafka.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	// '-' is not in base64's alphabet: the passwords cannot appear by chance.
	if bytes.Contains(data, []byte("pw-of-")) || bytes.Contains(data, []byte("carol")) {
		t.Errorf("the credential file holds a password or a user never added:\n%s", data)
	}
}

// TestReauthNeedsSASL checks that --connections-max-reauth without --sasl is a
// usage error.
func TestReauthNeedsSASL(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--dir", t.TempDir(), "--connections-max-reauth", "1m"}, &stderr, nil); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

// TestServeSASLReauth starts the command with --sasl and
// --connections-max-reauth: SaslAuthenticate tells the session's lifetime.
func TestServeSASLReauth(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := users("pw\n", "add", "--dir", dir, "--user", "alice"); code != 0 {
		t.Fatalf("users add: exit %d: %s", code, stderr)
	}
	addr, _ := startCommand(t, "--dir", dir, "--sasl", "--connections-max-reauth", "90s")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	handshake := kmsg.NewPtrSASLHandshakeRequest()
	handshake.Version, handshake.Mechanism = 1, "PLAIN"
	roundTrip(t, nc, handshake, 1)
	authenticate := kmsg.NewPtrSASLAuthenticateRequest()
	authenticate.Version, authenticate.SASLAuthBytes = 1, []byte("\x00alice\x00pw")
	resp := roundTrip(t, nc, authenticate, 2).(*kmsg.SASLAuthenticateResponse)
	if resp.ErrorCode != 0 || resp.SessionLifetimeMillis != 90000 {
		t.Errorf("SaslAuthenticate: error %d, lifetime %d ms; want none, 90000", resp.ErrorCode, resp.SessionLifetimeMillis)
	}
}

// roundTrip sends req on nc and reads its response.
func roundTrip(t *testing.T, nc net.Conn, req kmsg.Request, correlationID int32) kmsg.Response {
	t.Helper()
	formatter := kmsg.NewRequestFormatter()
	if _, err := nc.Write(formatter.AppendRequest(nil, req, correlationID)); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(nc, size[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(nc, body); err != nil {
		t.Fatal(err)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	skip := 4 // correlation id
	if resp.IsFlexible() {
		skip++ // empty tagged fields
	}
	if err := resp.ReadFrom(body[skip:]); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestServeDamagedCredentials checks that the command does not serve a store
// whose credential file is damaged (nobody could authenticate, and changes
// would be refused): it exits 1 naming the file, and so does `users`, leaving
// the file as it is.
func TestServeDamagedCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, kafka.CredentialsFile)
	if err := os.WriteFile(path, []byte("not a credential file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--dir", dir, "--listen", "127.0.0.1:0", "--sasl"}, &stderr, nil); code != 1 ||
		!strings.Contains(stderr.String(), "corrupt SCRAM credential file") {
		t.Errorf("serving: exit %d, %s; want 1 and the damage", code, stderr.String())
	}
	if code, _, stderr := users("pw\n", "add", "--dir", dir, "--user", "alice"); code != 1 || !strings.Contains(stderr, "corrupt") {
		t.Errorf("users add: exit %d, %s; want 1 and the damage", code, stderr)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "not a credential file\n" {
		t.Errorf("the file: %q, %v; want it as it was", data, err)
	}
}
