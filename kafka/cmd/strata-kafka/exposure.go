package main

import (
	"fmt"
	"net"
	"strings"
)

// checkExposure refuses to serve, without TLS and SASL, an address that is not
// loopback (issue 15: TLS and SASL for anything that is not loopback): a Kafka
// listener open to a network without them lets anyone on it read and write
// every topic. listen is --listen (one address, or several comma-separated);
// allowInsecure (--allow-insecure-listener) serves it anyway, for a trusted
// network.
func checkExposure(listen string, tls, sasl, allowInsecure bool) error {
	if allowInsecure || (tls && sasl) {
		return nil
	}
	for _, addr := range strings.Split(listen, ",") {
		addr = strings.TrimSpace(addr)
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil // the listener reports the malformed address
		}
		if isLoopback(host) {
			continue
		}
		var missing []string
		if !tls {
			missing = append(missing, "TLS (--tls-cert, --tls-key)")
		}
		if !sasl {
			missing = append(missing, "SASL (--sasl)")
		}
		return fmt.Errorf("--listen %s is not a loopback address: serving it needs %s, or --allow-insecure-listener for a trusted network",
			addr, strings.Join(missing, " and "))
	}
	return nil
}

// isLoopback says whether host (an IP address or "localhost") names only this
// machine; an empty host or an unspecified address (0.0.0.0, ::) listens on
// every interface, and any other name may resolve anywhere.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
