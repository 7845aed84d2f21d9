package log_test

// The real crash test of a store of several brokers: a child process produces with
// acks=all to a topic of replication factor 3 and min.insync.replicas 2, reporting
// each acknowledgement on stdout; the parent SIGKILLs it at a random
// acknowledgement, opens the store and reads every acknowledged record back, in
// order; once, between two runs, it removes or corrupts one broker's directory (one
// of the replicas: what min.insync.replicas 2 of 3 survives), and the runs after
// that work on the two brokers left.

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

const (
	replicatedKillChildEnv = "STRATA_REPLICATED_KILL_CHILD" // the store's directory
	replicatedKillRoundEnv = "STRATA_REPLICATED_KILL_ROUND" // the round, for unique values
)

// TestReplicatedKillChild is the child of TestReplicatedKillDuringProduce, skipped
// unless STRATA_REPLICATED_KILL_CHILD names a store. Three goroutines produce one
// record at a time with acks=all; after each acknowledgement the child writes
// "offset value\n" to stdout with one write.
func TestReplicatedKillChild(t *testing.T) {
	dir := os.Getenv(replicatedKillChildEnv)
	if dir == "" {
		t.Skip("only as the child of TestReplicatedKillDuringProduce")
	}
	round := os.Getenv(replicatedKillRoundEnv)
	s, err := log.Open(dir, nil)
	if err != nil {
		fmt.Printf("ERR open: %v\n", err)
		return
	}
	ctx := context.Background()
	if _, err := s.DescribeTopic("orders"); err != nil {
		err = s.CreateTopic(ctx, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
		if err != nil {
			fmt.Printf("ERR create: %v\n", err)
			return
		}
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				value := fmt.Sprintf("r%s-g%d-%d", round, g, i)
				r := &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: []byte(value)}
				if err := s.Produce(ctx, r); err != nil {
					fmt.Printf("ERR produce: %v\n", err)
					return
				}
				out.Lock()
				os.Stdout.WriteString(fmt.Sprintf("%d %s\n", r.Offset, value))
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestReplicatedKillDuringProduce(t *testing.T) {
	if os.Getenv(replicatedKillChildEnv) != "" {
		t.Skip("in the child")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	seed := uint64(1)
	if s := os.Getenv("STRATA_SEED"); s != "" {
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	rounds := 6
	if os.Getenv("STRATA_LONG") != "" {
		rounds = 40
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	t.Logf("seed %d (STRATA_SEED replays it), %d rounds", seed, rounds)
	root := filepath.Join(t.TempDir(), "store")
	disk2 := filepath.Join(t.TempDir(), "disk2")
	require.NoError(t, vfs.MkdirAllSync(vfs.OS, root))
	require.NoError(t, log.InitBrokers(vfs.OS, root, map[replica.BrokerID]string{0: "", 1: "", 2: disk2}))
	damageRound := 1 + rng.IntN(rounds-1)
	acked := map[int64]string{}
	for round := range rounds {
		if round == damageRound {
			damageBroker(t, rng, root, disk2)
		}
		target := 1 + rng.IntN(200)
		for _, line := range runReplicatedChild(t, exe, root, round, target) {
			offsetText, value, ok := strings.Cut(line, " ")
			offset, err := strconv.ParseInt(offsetText, 10, 64)
			require.True(t, ok && err == nil, "child line %q", line)
			require.NotContains(t, acked, offset, "offset %d acknowledged twice", offset)
			acked[offset] = value
		}
		s, err := log.Open(root, nil)
		require.NoError(t, err, "round %d", round)
		end := describe(t, s, "orders").Partitions[0].EndOffset
		values := map[int64]string{}
		if end > 0 {
			c, err := s.NewConsumer(log.ConsumerOptions{})
			require.NoError(t, err)
			require.NoError(t, c.Assign(tp("orders", 0)))
			next := int64(0)
			for _, r := range pollN(t, c, int(end)) {
				require.Equal(t, next, r.Offset, "round %d: offsets in order", round)
				values[r.Offset] = string(r.Value)
				next++
			}
			require.NoError(t, c.Close())
		}
		for offset, value := range acked {
			require.Equal(t, value, values[offset], "round %d: acknowledged offset %d (end %d)", round, offset, end)
		}
		t.Logf("round %d: killed after %d acknowledgements, %d in all, end offset %d", round, target, len(acked), end)
		require.NoError(t, s.Close())
	}
}

// damageBroker removes broker 2's directory, or corrupts a byte of one of broker
// 1's segment files.
func damageBroker(t *testing.T, rng *rand.Rand, root, disk2 string) {
	t.Helper()
	if rng.IntN(2) == 0 {
		t.Logf("removing broker 2's directory")
		require.NoError(t, os.RemoveAll(disk2))
		return
	}
	segments, err := filepath.Glob(filepath.Join(root, "broker.1", "orders-0", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, segments)
	f, err := os.OpenFile(segments[0], os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	info, err := f.Stat()
	require.NoError(t, err)
	if info.Size() == 0 {
		return
	}
	at := rng.Int64N(info.Size())
	b := make([]byte, 1)
	_, err = f.ReadAt(b, at)
	require.NoError(t, err)
	b[0] ^= 0x5a
	_, err = f.WriteAt(b, at)
	require.NoError(t, err)
	t.Logf("flipped byte %d of %s", at, segments[0])
}

// runReplicatedChild runs the child on the store, SIGKILLs it after target
// acknowledgements, and returns every whole line it wrote.
func runReplicatedChild(t *testing.T, exe, dir string, round, target int) []string {
	t.Helper()
	cmd := exec.Command(exe, "-test.run=^TestReplicatedKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), replicatedKillChildEnv+"="+dir, fmt.Sprintf("%s=%d", replicatedKillRoundEnv, round))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	reader := bufio.NewReader(stdout)
	var lines []string
	killed := false
	for {
		line, err := reader.ReadString('\n')
		if err != nil {
			break
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "ERR ") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s (stderr %s)", line, stderr.String())
		}
		if strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- ") || line == "PASS" || line == "FAIL" {
			continue // the test framework's own lines
		}
		lines = append(lines, line)
		if len(lines) == target && !killed {
			require.NoError(t, cmd.Process.Kill())
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited by itself after %d acknowledgements (%v): %s", len(lines), err, stderr.String())
	}
	return lines
}
