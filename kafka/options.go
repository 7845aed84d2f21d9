package kafka

import (
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratalog/strata/replica"
)

// DefaultMaxRequestBytes is the largest request a connection may send by default:
// Kafka's socket.request.max.bytes, 100 MiB.
const DefaultMaxRequestBytes = 100 << 20

// DefaultConnectionsMaxIdle is how long a connection may stay idle by default
// before the server closes it: Kafka's connections.max.idle.ms, 10 minutes.
const DefaultConnectionsMaxIdle = 10 * time.Minute

// DefaultClusterID is the cluster ID Metadata reports when Options.ClusterID is empty.
const DefaultClusterID = "strata"

// Options configure a Server. The zero value is valid and means the defaults;
// NewServer takes a copy.
type Options struct {
	// MaxRequestBytes bounds the size of one request (Kafka's
	// socket.request.max.bytes): a length prefix above it closes the connection
	// before anything is allocated for the request. Default DefaultMaxRequestBytes.
	MaxRequestBytes int
	// AdvertisedAddr is the host:port that Metadata gives clients, on a listener
	// of Serve (the whole store at one address), as the address of every broker
	// (Kafka's advertised.listeners). Default: the address the client connected
	// to. Listeners of ServeBroker use BrokerAddrs instead.
	AdvertisedAddr string
	// BrokerAddrs is the host:port that Metadata, FindCoordinator and
	// DescribeCluster give clients as the address of each broker served on its
	// own listener (ServeBroker, ServeBrokers): each broker's
	// advertised.listeners. A broker not in it is advertised at the address its
	// listener is bound to (with the host the client connected to if the
	// listener is bound to every interface, 0.0.0.0 or [::]); a broker with
	// neither is not listed.
	BrokerAddrs map[replica.BrokerID]string
	// ClusterID is the cluster ID Metadata reports. Default DefaultClusterID.
	ClusterID string
	// ConnectionsMaxIdle is how long a connection may go without a request
	// before the server closes it (Kafka's connections.max.idle.ms): idle time is
	// counted from the last response (or the accept), never while a request is
	// being handled. Idle connections are looked for every tenth of it, so one is
	// closed after between 1 and 1.1 times it. Default DefaultConnectionsMaxIdle;
	// negative: never.
	ConnectionsMaxIdle time.Duration
	// FetchSessionCacheSlots is how many fetch sessions (KIP-227: incremental
	// fetches, which carry only what changed) the server keeps for its clients
	// (Kafka's max.incremental.fetch.session.cache.slots). When they are all
	// taken, a full fetch gets a session only by evicting one, as on Kafka: the
	// least recently used if unused for 2 minutes, else the smallest of those
	// over 2 minutes old when last used if it has fewer partitions; otherwise
	// its answer has session id 0 and the client goes on with full fetches. Default
	// DefaultFetchSessionCacheSlots; negative: none, every fetch is sessionless.
	FetchSessionCacheSlots int
	// Logger receives connection errors and rejected requests. Default: discard.
	Logger *slog.Logger
	// SASL, if not nil, requires every connection to authenticate with SASL
	// before any request other than ApiVersions (see SASL). Default: none, as on
	// Kafka's PLAINTEXT and SSL listeners.
	SASL *SASL
	// Credentials, if not nil, is the SCRAM credential store (OpenCredentials)
	// that DescribeUserScramCredentials and AlterUserScramCredentials read and
	// change, on every connection, as Kafka keeps its users' SCRAM credentials
	// whatever its listeners' security. A SASL with none of Users, Password and
	// SCRAMCredentials authenticates against it. The caller owns it; the server
	// only reads and changes it. Default: none (see the two APIs).
	Credentials *Credentials
	// ConnectionsMaxReauth is the lifetime of an authenticated SASL session
	// (Kafka's connections.max.reauth.ms, KIP-368): SaslAuthenticate (v1+)
	// tells the client, which re-authenticates on the same connection
	// (SaslHandshake, SaslAuthenticate, as the same user with the same
	// mechanism) before it ends; a request other than that SaslHandshake after
	// the session ended closes the connection, as on Kafka (clients of
	// SaslAuthenticate v0 cannot re-authenticate, and are disconnected so). As
	// on Kafka, a connection re-authenticates at most once a second: clients
	// re-authenticate a margin before the end (kgo: at least a second), so a
	// lifetime of a few seconds or less makes them re-authenticate before
	// every request, and fail when that is twice in a second. Kafka's
	// default is 0: sessions do not end; otherwise at least a millisecond.
	ConnectionsMaxReauth time.Duration
}

// withDefaults returns a copy of o (nil: the zero Options) with defaults filled in,
// or an *OptionsError naming every invalid field.
func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	var problems []string
	switch {
	case c.MaxRequestBytes == 0:
		c.MaxRequestBytes = DefaultMaxRequestBytes
	case c.MaxRequestBytes < 0:
		problems = append(problems, fmt.Sprintf("MaxRequestBytes: %d: must not be negative", c.MaxRequestBytes))
	}
	if c.AdvertisedAddr != "" {
		if _, _, err := splitHostPort(c.AdvertisedAddr); err != nil {
			problems = append(problems, fmt.Sprintf("AdvertisedAddr: %q: %v", c.AdvertisedAddr, err))
		}
	}
	if c.BrokerAddrs != nil {
		addrs := make(map[replica.BrokerID]string, len(c.BrokerAddrs))
		for _, id := range slices.Sorted(maps.Keys(c.BrokerAddrs)) {
			addr := c.BrokerAddrs[id]
			if _, _, err := splitHostPort(addr); err != nil {
				problems = append(problems, fmt.Sprintf("BrokerAddrs[%d]: %q: %v", id, addr, err))
			}
			addrs[id] = addr
		}
		c.BrokerAddrs = addrs
	}
	if c.ConnectionsMaxIdle == 0 {
		c.ConnectionsMaxIdle = DefaultConnectionsMaxIdle
	}
	if c.ConnectionsMaxReauth < 0 || (c.ConnectionsMaxReauth > 0 && c.ConnectionsMaxReauth < time.Millisecond) {
		problems = append(problems, fmt.Sprintf("ConnectionsMaxReauth: %v: want 0 or at least 1ms", c.ConnectionsMaxReauth))
	}
	if c.FetchSessionCacheSlots == 0 {
		c.FetchSessionCacheSlots = DefaultFetchSessionCacheSlots
	}
	if c.ClusterID == "" {
		c.ClusterID = DefaultClusterID
	}
	sasl, saslProblems := c.SASL.clone(c.Credentials)
	c.SASL = sasl
	problems = append(problems, saslProblems...)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if len(problems) > 0 {
		return Options{}, &OptionsError{Problems: problems}
	}
	return c, nil
}

// splitHostPort splits a host:port address into a host and a port in 1..65535.
func splitHostPort(addr string) (string, int32, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("port %q: want a number in 1..65535", portText)
	}
	return host, int32(port), nil
}

// OptionsError reports every invalid field of an Options.
type OptionsError struct {
	Problems []string
}

func (e *OptionsError) Error() string {
	return "strata/kafka: invalid options: " + strings.Join(e.Problems, "; ")
}

// Unwrap makes an *OptionsError match ErrInvalidOptions.
func (e *OptionsError) Unwrap() error { return ErrInvalidOptions }
