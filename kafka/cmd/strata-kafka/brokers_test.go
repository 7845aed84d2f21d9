package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stratalog/strata/kafka/internal/testcert"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// initThreeBrokers makes dir a store of three brokers, 0, 1 and 2.
func initThreeBrokers(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := vfs.MkdirAllSync(vfs.OS, dir); err != nil {
		t.Fatal(err)
	}
	if err := log.InitBrokers(vfs.OS, dir, map[replica.BrokerID]string{0: "", 1: "", 2: ""}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startBrokersCommand runs the command with args until the test ends and returns the
// addresses it listens on, in order.
func startBrokersCommand(t *testing.T, args []string, listeners int) []net.Addr {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, listeners)
	exit := make(chan int, 1)
	var stderr bytes.Buffer
	go func() { exit <- run(ctx, args, &stderr, func(a net.Addr) { addrs <- a }) }()
	t.Cleanup(func() {
		cancel()
		if code := <-exit; code != 0 {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	})
	var out []net.Addr
	for range listeners {
		select {
		case a := <-addrs:
			out = append(out, a)
		case code := <-exit:
			exit <- code
			t.Fatalf("exit %d before listening: %s", code, stderr.String())
		}
	}
	return out
}

// TestServeSeveralBrokers starts the command on a store of three brokers with
// a base port of 0 (each broker on a port of the system's choice): it listens
// once per broker, Metadata gives each broker at its listener's address, and a
// kgo client seeded with one of them produces to and consumes from a
// replicated topic whose partitions the three brokers lead.
func TestServeSeveralBrokers(t *testing.T) {
	addrs := startBrokersCommand(t, []string{"--dir", initThreeBrokers(t), "--listen", "127.0.0.1:0"}, 3)
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs[1].String()), kgo.DefaultProduceTopic("orders"),
		kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 3 {
		t.Fatalf("brokers %+v, want 3", meta.Brokers)
	}
	for i, b := range meta.Brokers {
		if b.NodeID != int32(i) || net.JoinHostPort(b.Host, itoa(b.Port)) != addrs[i].String() {
			t.Errorf("broker %+v, want node %d at %s", b, i, addrs[i])
		}
	}
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	var values []string
	for i := range 30 {
		values = append(values, itoa(int32(i)))
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for len(got) < len(values) {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatal(err)
		}
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	slices.Sort(got)
	slices.Sort(values)
	if !slices.Equal(got, values) {
		t.Errorf("consumed %v, want %v", got, values)
	}
}

// TestServeSeveralBrokersAdvertised starts the command on a store of three
// brokers with a list of listeners and a base advertised port: Metadata gives
// broker i at the advertised host and the base port + i.
func TestServeSeveralBrokersAdvertised(t *testing.T) {
	addrs := startBrokersCommand(t, []string{"--dir", initThreeBrokers(t), "--listen", "127.0.0.1:0, 127.0.0.1:0,127.0.0.1:0",
		"--advertised-listener", "kafka.example:19092"}, 3)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs[2].String()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	meta, err := kadm.NewClient(cl).BrokerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 3 {
		t.Fatalf("brokers %+v, want 3", meta.Brokers)
	}
	for i, b := range meta.Brokers {
		if b.NodeID != int32(i) || b.Host != "kafka.example" || b.Port != 19092+int32(i) {
			t.Errorf("broker %+v, want node %d at kafka.example:%d", b, i, 19092+i)
		}
	}
}

// TestServeSeveralBrokersWrongListenCount checks that a list of listeners that
// does not give one per broker fails with a message, having served nothing.
func TestServeSeveralBrokersWrongListenCount(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"--dir", initThreeBrokers(t), "--listen", "127.0.0.1:0,127.0.0.1:0"}, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "2 addresses for 3 brokers") {
		t.Errorf("exit %d: %s; want 1, 2 addresses for 3 brokers", code, stderr.String())
	}
}

// TestBrokerAddrs is a table of --listen values for brokers 0, 1 and 5.
func TestBrokerAddrs(t *testing.T) {
	ids := []replica.BrokerID{0, 1, 5}
	for _, test := range []struct {
		spec string
		want []string // nil: an error
	}{
		{"127.0.0.1:9092", []string{"127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9097"}},
		{"[::1]:9092", []string{"[::1]:9092", "[::1]:9093", "[::1]:9097"}},
		{":0", []string{":0", ":0", ":0"}},
		{"a:1,b:2, c:3", []string{"a:1", "b:2", "c:3"}},
		{"a:1,b:2", nil},
		{"a:1,b,c:3", nil},
		{"localhost", nil},
		{"localhost:http", nil},
		{"localhost:65533", nil},
	} {
		got, err := brokerAddrs(test.spec, ids)
		if test.want == nil {
			if err == nil {
				t.Errorf("%q: %v, want an error", test.spec, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, test.want) {
			t.Errorf("%q: %v, %v; want %v", test.spec, got, err, test.want)
		}
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

// TestServeSeveralBrokersTLS starts the command on a store of three brokers
// with a certificate: every broker's listener serves TLS, and a kgo client over
// TLS produces to a partition each broker leads.
func TestServeSeveralBrokersTLS(t *testing.T) {
	files := t.TempDir()
	certPEM, keyPEM := testcert.New(t)
	certFile, keyFile := filepath.Join(files, "cert.pem"), filepath.Join(files, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	addrs := startBrokersCommand(t, []string{"--dir", initThreeBrokers(t), "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile}, 3)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs[0].String()), kgo.DialTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}),
		kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 3, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	for p := range int32(3) {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatalf("partition %d: %v", p, err)
		}
	}
}
