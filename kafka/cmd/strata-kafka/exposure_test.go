package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The command refuses a listener that is not loopback without TLS and SASL,
// naming what is missing, unless --allow-insecure-listener says the network is
// trusted; loopback addresses need neither.
func TestExposedListenerNeedsTLSAndSASL(t *testing.T) {
	for _, tc := range []struct {
		listen             string
		tls, sasl, allow   bool
		wantErr, wantNamed string
	}{
		{listen: "127.0.0.1:9092"},
		{listen: "[::1]:9092"},
		{listen: "localhost:9092"},
		{listen: "127.0.0.1:9092,127.0.0.2:9093"},
		{listen: "0.0.0.0:9092", wantErr: "not a loopback address", wantNamed: "TLS (--tls-cert, --tls-key) and SASL (--sasl)"},
		{listen: ":9092", wantErr: "not a loopback address"},
		{listen: "10.0.0.5:9092", tls: true, wantErr: "not a loopback address", wantNamed: "needs SASL (--sasl), or"},
		{listen: "kafka.example:9092", sasl: true, wantErr: "not a loopback address", wantNamed: "needs TLS (--tls-cert, --tls-key), or"},
		{listen: "127.0.0.1:9092, 10.0.0.5:9093", wantErr: "--listen 10.0.0.5:9093"},
		{listen: "0.0.0.0:9092", tls: true, sasl: true},
		{listen: "0.0.0.0:9092", allow: true},
	} {
		err := checkExposure(tc.listen, tc.tls, tc.sasl, tc.allow)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%+v: %v", tc, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.wantNamed)):
			t.Errorf("%+v: got %v, want %q naming %q", tc, err, tc.wantErr, tc.wantNamed)
		}
	}

	// The command exits 2 at once, before it opens the store.
	var stderr bytes.Buffer
	dir := t.TempDir() + "/never-made"
	if code := run(context.Background(), []string{"--dir", dir, "--listen", "0.0.0.0:0"}, &stderr, nil); code != 2 ||
		!strings.Contains(stderr.String(), "--allow-insecure-listener") {
		t.Fatalf("exit %d, stderr %q; want 2 naming --allow-insecure-listener", code, stderr.String())
	}
}
