// Command strata-kafka serves a strata store over Kafka's wire protocol, so that
// Kafka clients and tools can use it:
//
//	strata-kafka --dir DIR [--listen HOST:PORT] [--advertised-listener HOST:PORT]
//
// It opens (creating it if needed) the store in DIR, listens on --listen (default
// 127.0.0.1:9092) and serves until SIGINT or SIGTERM, then stops accepting,
// answers the requests in flight, and closes the store. --advertised-listener is
// the address clients are told to connect to (default: the address they reached).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/stratalog/strata/kafka"
	"github.com/stratalog/strata/log"
)

func main() {
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
	listen := flags.String("listen", "127.0.0.1:9092", "the host:port to listen on")
	advertised := flags.String("advertised-listener", "", "the host:port clients are told to connect to (default: the address they reached)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || flags.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: strata-kafka --dir DIR [--listen HOST:PORT] [--advertised-listener HOST:PORT]")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if err := serve(ctx, *dir, *listen, *advertised, logger, listening); err != nil {
		fmt.Fprintln(stderr, "strata-kafka:", err)
		return 1
	}
	return 0
}

// serve opens the store in dir and serves it on listen until ctx ends.
func serve(ctx context.Context, dir, listen, advertised string, logger *slog.Logger, listening func(net.Addr)) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	store, err := log.Open(dir, &log.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	logger.Info("serving Kafka's protocol", "dir", dir, "listen", ln.Addr().String())
	if listening != nil {
		listening(ln.Addr())
	}
	return kafka.Serve(ctx, ln, store, &kafka.Options{AdvertisedAddr: advertised, Logger: logger})
}
