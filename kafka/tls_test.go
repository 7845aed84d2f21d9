package kafka

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/stratalog/strata/kafka/internal/testcert"
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startTLSServer serves a new store over TLS with opts and returns it with a
// client configuration that trusts its self-signed certificate.
func startTLSServer(t *testing.T, opts *Options) (*testServer, *tls.Config) {
	t.Helper()
	serverConfig, clientConfig := testcert.Configs(t)
	store, err := log.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := serveStoreOn(t, store, opts, nil, func(ln net.Listener) net.Listener {
		return tls.NewListener(ln, serverConfig)
	})
	return ts, clientConfig
}

// TestTLSProduceConsume produces and consumes with kgo over TLS: Serve takes any
// net.Listener, a tls.Listener included.
func TestTLSProduceConsume(t *testing.T) {
	ts, clientConfig := startTLSServer(t, nil)
	ctx := context.Background()
	if err := ts.store.CreateTopic(ctx, "tls", log.TopicConfig{Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	cl := ts.client(t, kgo.DialTLSConfig(clientConfig),
		kgo.ConsumeTopics("tls"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "tls", Value: []byte("over TLS")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fetches := cl.PollRecords(ctx, 1)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	records := fetches.Records()
	if len(records) != 1 || string(records[0].Value) != "over TLS" {
		t.Fatalf("records %v, want the one produced", records)
	}
}

// TestTLSPlaintextClientRefused checks that a request in plaintext to the TLS
// listener closes that connection unanswered, and that the server keeps serving
// TLS clients.
func TestTLSPlaintextClientRefused(t *testing.T) {
	ts, clientConfig := startTLSServer(t, nil)
	plain := ts.dial(t)
	plain.send(frame(kmsg.NewPtrApiVersionsRequest(), 1))
	plain.expectClosed()
	secure := ts.client(t, kgo.DialTLSConfig(clientConfig))
	if err := secure.Ping(context.Background()); err != nil {
		t.Fatalf("a TLS client after the plaintext one: %v", err)
	}
}
