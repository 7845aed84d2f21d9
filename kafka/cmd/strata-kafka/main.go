// Command strata-kafka serves a strata store over Kafka's wire protocol, so that
// Kafka clients and tools can use it:
//
//	strata-kafka --dir DIR [--listen HOST:PORT] [--advertised-listener HOST:PORT]
//	             [--connections-max-idle DURATION] [--tls-cert FILE --tls-key FILE]
//	             [--sasl [--connections-max-reauth DURATION]] [--allow-insecure-listener]
//	strata-kafka users add|delete|list --dir DIR [--user USER] [--mechanism M] [--iterations N]
//
// It opens (creating it if needed) the store in DIR, listens on --listen (default
// 127.0.0.1:9092) and serves until SIGINT or SIGTERM, then stops accepting,
// answers the requests in flight, and closes the store. --advertised-listener is
// the address clients are told to connect to (default: the address they reached).
//
// A store of several brokers (log.InitBrokers) is served as a Kafka cluster: one
// listener per broker (kafka.ServeBrokers), each answering for the partitions its
// broker leads. --listen then names each broker's address, in the order of the
// broker ids ("127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"), or is one
// HOST:PORT that each broker offsets by its id (broker 2 of 127.0.0.1:9092
// listens on 127.0.0.1:9094; port 0: each broker on a port of the system's
// choice); --advertised-listener likewise (default: each listener's address).
// --connections-max-idle closes connections idle for longer (Kafka's
// connections.max.idle.ms; default 10m, 0 or negative: never). --tls-cert and
// --tls-key, given together, serve TLS only (Kafka's SSL listener): the PEM
// certificate chain and its private key, as crypto/tls.LoadX509KeyPair reads them.
// --sasl makes every connection authenticate with SASL (SCRAM-SHA-512,
// SCRAM-SHA-256 or PLAIN) as one of the store's SCRAM users;
// --connections-max-reauth ends each authenticated session after DURATION
// (Kafka's connections.max.reauth.ms, KIP-368): clients re-authenticate on the
// connection, others are disconnected at their next request. A --listen address
// that is not loopback (0.0.0.0, a network interface, a host name) is refused
// unless both TLS and --sasl are on, or --allow-insecure-listener says the
// network is trusted.
//
// The store's SCRAM users are kept salted in DIR/kafka-scram-users.json
// (kafka.Credentials): `strata-kafka users` adds (the password read from
// stdin), deletes and lists them, whether or not the server is running, and
// Kafka's AlterUserScramCredentials (kafka-configs.sh --alter --add-config
// 'SCRAM-SHA-512=[password=...]', kadm's AlterUserSCRAMs) changes them on any
// listener; a running server sees each change at the next authentication.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/stratalog/strata/kafka"
	"github.com/stratalog/strata/log"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "users" {
		os.Exit(runUsers(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

// run is the whole command: it serves until ctx ends and returns the exit code
// (0, 1 on failure, 2 for a wrong command line). listening, if not nil, is told
// the address once the listener is open.
func run(ctx context.Context, args []string, stderr io.Writer, listening func(net.Addr)) int {
	flags := flag.NewFlagSet("strata-kafka", flag.ContinueOnError)
	flags.SetOutput(stderr)
	dir := flags.String("dir", "", "the store's data directory, created if it does not exist (required)")
	listen := flags.String("listen", "127.0.0.1:9092", "the host:port to listen on; with several brokers, one per broker (comma-separated, in id order) or a base port each broker offsets by its id")
	advertised := flags.String("advertised-listener", "", "the host:port clients are told to connect to (default: the address they reached); with several brokers, as --listen")
	maxIdle := flags.Duration("connections-max-idle", kafka.DefaultConnectionsMaxIdle, "close connections idle for longer than this (Kafka's connections.max.idle.ms; 0 or negative: never)")
	tlsCert := flags.String("tls-cert", "", "serve TLS with this PEM certificate (chain); needs --tls-key")
	tlsKey := flags.String("tls-key", "", "the PEM private key of --tls-cert")
	maxReauth := flags.Duration("connections-max-reauth", 0, "with --sasl: the lifetime of an authenticated session, after which clients re-authenticate (Kafka's connections.max.reauth.ms; 0: never)")
	requireSASL := flags.Bool("sasl", false, "require SASL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) as one of the store's SCRAM users (strata-kafka users)")
	allowInsecure := flags.Bool("allow-insecure-listener", false, "serve an address that is not loopback without TLS and SASL (a trusted network only)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || flags.NArg() > 0 || (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(stderr, "usage: strata-kafka --dir DIR [--listen HOST:PORT] [--advertised-listener HOST:PORT] [--connections-max-idle DURATION] [--tls-cert FILE --tls-key FILE] [--sasl [--connections-max-reauth DURATION]] [--allow-insecure-listener]\n       strata-kafka users add|delete|list --dir DIR ...")
		return 2
	}
	if err := checkExposure(*listen, *tlsCert != "", *requireSASL, *allowInsecure); err != nil {
		fmt.Fprintln(stderr, "strata-kafka:", err)
		return 2
	}
	var tlsConfig *tls.Config
	if *tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			fmt.Fprintln(stderr, "strata-kafka:", err)
			return 1
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if *maxIdle <= 0 {
		*maxIdle = -1 // Options: negative is never, zero the default
	}
	opts := &kafka.Options{ConnectionsMaxIdle: *maxIdle, Logger: logger}
	if *maxReauth != 0 && !*requireSASL {
		fmt.Fprintln(stderr, "strata-kafka: --connections-max-reauth needs --sasl")
		return 2
	}
	if *requireSASL {
		opts.SASL = &kafka.SASL{} // the store's credential file: see serve
		opts.ConnectionsMaxReauth = *maxReauth
	}
	if err := serve(ctx, *dir, *listen, *advertised, tlsConfig, opts, listening); err != nil {
		fmt.Fprintln(stderr, "strata-kafka:", err)
		return 1
	}
	return 0
}

// serve opens the store in dir and serves it on listen, advertised at
// advertised, until ctx ends, over TLS if tlsConfig is not nil; a store of
// several brokers with a listener per broker (serveBrokers). listening is told
// each listener's address, in the order of the broker ids.
func serve(ctx context.Context, dir, listen, advertised string, tlsConfig *tls.Config, opts *kafka.Options, listening func(net.Addr)) (err error) {
	logger := opts.Logger
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The SCRAM users, managed by AlterUserScramCredentials on any listener and
	// by `strata-kafka users`; with --sasl, authenticated against.
	credentials, err := kafka.OpenCredentials(filepath.Join(dir, kafka.CredentialsFile))
	if err != nil {
		return err
	}
	opts.Credentials = credentials
	if users, err := credentials.Describe(); err == nil && len(users) == 0 && opts.SASL != nil {
		logger.Warn("SASL is required but the store has no SCRAM user yet: add one with strata-kafka users add", "dir", dir)
	}
	store, err := log.Open(dir, &log.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	brokers, err := store.Brokers()
	if err != nil {
		return err
	}
	if len(brokers) > 1 {
		return serveBrokers(ctx, store, brokers, listen, advertised, tlsConfig, opts, listening)
	}
	opts.AdvertisedAddr = advertised
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	logger.Info("serving Kafka's protocol", "dir", dir, "listen", ln.Addr().String(), "tls", tlsConfig != nil, "sasl", opts.SASL != nil)
	if listening != nil {
		listening(ln.Addr())
	}
	return kafka.Serve(ctx, ln, store, opts)
}
