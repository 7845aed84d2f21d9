package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/stratalog/strata/kafka"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
)

// serveBrokers serves each of the store's brokers on its own listener, its
// address from listen and advertised (brokerAddrs), until ctx ends.
func serveBrokers(ctx context.Context, store *log.Store, brokers []log.BrokerInfo, listen, advertised string, tlsConfig *tls.Config, opts *kafka.Options, listening func(net.Addr)) error {
	ids := make([]replica.BrokerID, len(brokers))
	for i, b := range brokers {
		ids[i] = b.ID
	}
	listenAddrs, err := brokerAddrs(listen, ids)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if advertised != "" {
		addrs, err := brokerAddrs(advertised, ids)
		if err != nil {
			return fmt.Errorf("--advertised-listener: %w", err)
		}
		opts.BrokerAddrs = map[replica.BrokerID]string{}
		for i, id := range ids {
			opts.BrokerAddrs[id] = addrs[i]
		}
	}
	listeners := map[replica.BrokerID]net.Listener{}
	closeAll := func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}
	for i, id := range ids {
		ln, err := net.Listen("tcp", listenAddrs[i])
		if err != nil {
			closeAll()
			return fmt.Errorf("broker %d: %w", id, err)
		}
		if tlsConfig != nil {
			ln = tls.NewListener(ln, tlsConfig)
		}
		listeners[id] = ln
	}
	for _, id := range ids {
		addr := listeners[id].Addr()
		opts.Logger.Info("serving Kafka's protocol", "broker", id, "listen", addr.String(), "advertised", opts.BrokerAddrs[id],
			"tls", tlsConfig != nil, "sasl", opts.SASL != nil)
		if listening != nil {
			listening(addr)
		}
	}
	return kafka.ServeBrokers(ctx, listeners, store, opts)
}

// brokerAddrs returns the address of each broker of ids (in that order) that
// spec gives: a comma-separated list of one host:port per broker, or a single
// host:port whose port each broker offsets by its id (port 0 stays 0, a port
// of the system's choice for each).
func brokerAddrs(spec string, ids []replica.BrokerID) ([]string, error) {
	if strings.Contains(spec, ",") {
		addrs := strings.Split(spec, ",")
		if len(addrs) != len(ids) {
			return nil, fmt.Errorf("%q: %d addresses for %d brokers (%s)", spec, len(addrs), len(ids), replica.FormatBrokers(ids))
		}
		for i, addr := range addrs {
			addrs[i] = strings.TrimSpace(addr)
			if _, _, err := net.SplitHostPort(addrs[i]); err != nil {
				return nil, fmt.Errorf("%q: %w", addrs[i], err)
			}
		}
		return addrs, nil
	}
	host, portText, err := net.SplitHostPort(spec)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", spec, err)
	}
	base, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%q: port %q: want a number in 0..65535", spec, portText)
	}
	addrs := make([]string, len(ids))
	for i, id := range ids {
		port := base
		if base != 0 {
			port = base + uint64(uint32(id)) // ids are not negative (log.InitBrokers)
		}
		if port > 65535 {
			return nil, fmt.Errorf("%q: broker %d: port %d + %d is above 65535", spec, id, base, id)
		}
		addrs[i] = net.JoinHostPort(host, strconv.FormatUint(port, 10))
	}
	return addrs, nil
}
