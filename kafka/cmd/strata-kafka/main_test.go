package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/kafka/internal/testcert"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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

// TestServeSASLUsers starts the command with --sasl-users: a kgo client
// authenticates with SCRAM-SHA-512 as a user of the file; a wrong password is
// SASL_AUTHENTICATION_FAILED.
func TestServeSASLUsers(t *testing.T) {
	usersFile := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(usersFile, []byte("# users\nalice:s3cret: with colon\n\nbob:pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		exit <- run(ctx, []string{"--dir", t.TempDir(), "--listen", "127.0.0.1:0", "--sasl-users", usersFile},
			&stderr, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case code := <-exit:
		t.Fatalf("exit %d before listening: %s", code, stderr.String())
	}
	for _, test := range []struct {
		auth scram.Auth
		want error
	}{
		{scram.Auth{User: "alice", Pass: "s3cret: with colon"}, nil},
		{scram.Auth{User: "bob", Pass: "wrong"}, kerr.SaslAuthenticationFailed},
	} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr.String()), kgo.SASL(test.auth.AsSha512Mechanism()))
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Ping(ctx); !errors.Is(err, test.want) {
			t.Errorf("%s/%s: %v, want %v", test.auth.User, test.auth.Pass, err, test.want)
		}
		cl.Close()
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// TestParseUsers is a table of --sasl-users files.
func TestParseUsers(t *testing.T) {
	for _, test := range []struct {
		text string
		want map[string]string // nil: an error
	}{
		{"alice:pw\n", map[string]string{"alice": "pw"}},
		{"# comment\n\nalice:a:b c\r\nbob:x", map[string]string{"alice": "a:b c", "bob": "x"}},
		{"alice\n", nil},
		{":pw\n", nil},
		{"alice:\n", nil},
		{"alice:1\nalice:2\n", nil},
		{"# nobody\n", nil},
	} {
		got, err := parseUsers(strings.NewReader(test.text))
		if test.want == nil {
			if err == nil {
				t.Errorf("%q: %v, want an error", test.text, got)
			}
			continue
		}
		if err != nil || !maps.Equal(got, test.want) {
			t.Errorf("%q: %v, %v; want %v", test.text, got, err, test.want)
		}
	}
}
