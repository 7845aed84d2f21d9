// Command kgosuite runs franz-go's own kgo integration tests (the test files of
// github.com/twmb/franz-go/pkg/kgo, at the version kafka/go.mod requires) against
// strata's Kafka listener, as other Kafka-compatible servers prove compatibility:
//
//	cd kafka && go run ./kgosuite
//
// It opens a store in a fresh temporary directory, serves it on a loopback port,
// and runs `go test` on the kgo package from the module cache with KGO_SEEDS
// pointing at the listener, KGO_TEST_RF=1 (one broker) and a small
// KGO_TEST_RECORDS (default 2000; set it to change). A second listener on the
// same store requires SASL against the store's SCRAM credentials
// (kafka.Options.Credentials), which hold one user for SCRAM-SHA-256 and
// SCRAM-SHA-512: KGO_TEST_SCRAM_SEEDS and KGO_TEST_SCRAM point kgo's SCRAM
// tests at it. The tests run are the
// "run" lines of allowlist.txt; with STRATA_LONG=1, every test of the package.
// KGOSUITE_BROKERS=N (default 1) makes the store one of N brokers, each served on
// its own loopback listener (kafka.ServeBrokers; the SCRAM server likewise),
// KGO_SEEDS naming them all, and KGO_TEST_RF=min(N, 3).
// Before running, it checks that allowlist.txt names every test the package
// has, as run or skip with a reason, so a new kgo version cannot add tests
// silently. Never with -race: the suite is external and its timing is tuned
// without it. Extra arguments go to `go test` (e.g. -v).
//
// The exit code is go test's.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/stratalog/strata/kafka"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// kgoPackage is the package whose tests run; go test resolves it through
// kafka/go.mod, so the version is the one the listener's own tests use.
const kgoPackage = "github.com/twmb/franz-go/pkg/kgo"

//go:embed allowlist.txt
var allowlistText string

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(goTestArgs []string) int {
	allow, err := parseAllowlist(allowlistText)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	listed, err := listTests()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	if err := allow.covers(listed); err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}

	dir, err := os.MkdirTemp("", "strata-kgosuite-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	brokers, err := brokerCount()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	if brokers > 1 {
		ids := map[replica.BrokerID]string{}
		for id := range brokers {
			ids[replica.BrokerID(id)] = ""
		}
		if err := log.InitBrokers(vfs.OS, dir, ids); err != nil {
			fmt.Fprintln(os.Stderr, "kgosuite:", err)
			return 1
		}
	}
	store, err := log.Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	defer store.Close()
	var logger *slog.Logger
	if os.Getenv("KGOSUITE_SERVER_LOG") == "1" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	credentials, err := kafka.OpenCredentials(filepath.Join(dir, kafka.CredentialsFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	for _, mechanism := range []string{kafka.SCRAMSHA256, kafka.SCRAMSHA512} {
		if err := credentials.SetPassword(mechanism, scramUser, scramPassword, 0); err != nil {
			fmt.Fprintln(os.Stderr, "kgosuite:", err)
			return 1
		}
	}
	addr, stop, err := serve(store, brokers, &kafka.Options{Logger: logger, Credentials: credentials})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	defer stop()
	scramAddr, stopSCRAM, err := serve(store, brokers, &kafka.Options{Logger: logger, Credentials: credentials, SASL: &kafka.SASL{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	defer stopSCRAM()

	// -count=1: a cached result would not have run against this listener.
	args := []string{"test", "-count=1"}
	if os.Getenv("STRATA_LONG") == "1" {
		args = append(args, "-timeout=3h")
	} else {
		args = append(args, "-timeout=20m", "-run", allow.runPattern())
	}
	args = append(args, goTestArgs...)
	args = append(args, kgoPackage)
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "KGO_SEEDS="+addr, fmt.Sprintf("KGO_TEST_RF=%d", min(brokers, 3)),
		"KGO_TEST_SCRAM_SEEDS="+scramAddr, "KGO_TEST_SCRAM="+scramUser+":"+scramPassword)
	if os.Getenv("KGO_TEST_RECORDS") == "" {
		cmd.Env = append(cmd.Env, "KGO_TEST_RECORDS=2000")
	}
	fmt.Fprintf(os.Stderr, "kgosuite: %s against %s (SCRAM: %s)\n", strings.Join(cmd.Args, " "), addr, scramAddr)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "kgosuite:", err)
		return 1
	}
	return 0
}

// The SCRAM user of the second listener (KGO_TEST_SCRAM: user:password, no
// colon in either).
const (
	scramUser     = "kgo-suite"
	scramPassword = "kgo-suite-password"
)

// brokerCount is KGOSUITE_BROKERS: how many brokers the store has (default 1).
func brokerCount() (int, error) {
	text := os.Getenv("KGOSUITE_BROKERS")
	if text == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > 16 {
		return 0, fmt.Errorf("KGOSUITE_BROKERS=%q: want a number of brokers in 1..16", text)
	}
	return n, nil
}

// serve serves store with opts, on a new loopback listener for one broker, or
// on one per broker (kafka.ServeBrokers) for several, and returns the addresses
// (comma-separated: the seeds) and a function that closes the server.
func serve(store *log.Store, brokers int, opts *kafka.Options) (string, func(), error) {
	if brokers > 1 {
		return serveBrokers(store, brokers, opts)
	}
	server, err := kafka.NewServer(store, opts)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	stop := func() {
		server.Close()
		if err := <-served; err != nil && !errors.Is(err, kafka.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "kgosuite: serve:", err)
		}
	}
	return ln.Addr().String(), stop, nil
}

// listTests returns the names of the kgo package's tests (go test -list).
func listTests() ([]string, error) {
	out, err := exec.Command("go", "test", "-list", ".", kgoPackage).Output()
	if err != nil {
		return nil, fmt.Errorf("go test -list %s: %w", kgoPackage, err)
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Test") {
			names = append(names, line)
		}
	}
	return names, nil
}

// allowlist is allowlist.txt parsed: the tests CI runs, and those it leaves
// out with the reason.
type allowlist struct {
	run  []string
	skip map[string]string
}

// parseAllowlist reads lines "run TestName" and "skip TestName reason...";
// blank lines and lines starting with # are comments.
func parseAllowlist(text string) (allowlist, error) {
	a := allowlist{skip: map[string]string{}}
	seen := map[string]bool{}
	scanner := bufio.NewScanner(strings.NewReader(text))
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || seen[fields[1]] {
			return a, fmt.Errorf("allowlist.txt:%d: want \"run TestName\" or \"skip TestName reason\", each test once: %q", n, line)
		}
		seen[fields[1]] = true
		switch {
		case fields[0] == "run" && len(fields) == 2:
			a.run = append(a.run, fields[1])
		case fields[0] == "skip" && len(fields) > 2:
			a.skip[fields[1]] = strings.Join(fields[2:], " ")
		default:
			return a, fmt.Errorf("allowlist.txt:%d: want \"run TestName\" or \"skip TestName reason\": %q", n, line)
		}
	}
	return a, scanner.Err()
}

// covers reports the package's tests the allowlist does not name, and the
// names it has that the package lacks.
func (a allowlist) covers(tests []string) error {
	named := map[string]bool{}
	for _, name := range a.run {
		named[name] = true
	}
	for name := range a.skip {
		named[name] = true
	}
	var missing, stale []string
	for _, name := range tests {
		if !named[name] {
			missing = append(missing, name)
		}
		delete(named, name)
	}
	for name := range named {
		stale = append(stale, name)
	}
	sort.Strings(stale)
	var msg bytes.Buffer
	if len(missing) > 0 {
		fmt.Fprintf(&msg, "allowlist.txt does not name %s (run it, or skip it with the reason)", strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		if msg.Len() > 0 {
			msg.WriteString("; ")
		}
		fmt.Fprintf(&msg, "allowlist.txt names tests %s lacks: %s", kgoPackage, strings.Join(stale, ", "))
	}
	if msg.Len() > 0 {
		return errors.New(msg.String())
	}
	return nil
}

// runPattern is the go test -run pattern selecting exactly the run lines.
func (a allowlist) runPattern() string {
	if len(a.run) == 0 {
		return "^$"
	}
	return "^(" + strings.Join(a.run, "|") + ")$"
}

// serveBrokers serves each of the store's brokers on its own loopback listener.
func serveBrokers(store *log.Store, brokers int, opts *kafka.Options) (string, func(), error) {
	listeners := map[replica.BrokerID]net.Listener{}
	var addrs []string
	for id := range brokers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, ln := range listeners {
				ln.Close()
			}
			return "", nil, err
		}
		listeners[replica.BrokerID(id)] = ln
		addrs = append(addrs, ln.Addr().String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- kafka.ServeBrokers(ctx, listeners, store, opts) }()
	stop := func() {
		cancel()
		if err := <-served; err != nil {
			fmt.Fprintln(os.Stderr, "kgosuite: serve:", err)
		}
	}
	return strings.Join(addrs, ","), stop, nil
}
