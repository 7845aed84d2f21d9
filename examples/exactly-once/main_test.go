package main

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTxnExactlyOnceExample runs the example as `go run ./examples/exactly-once`
// does: it seeds, copies (with transactions aborted on purpose) and checks.
func TestTxnExactlyOnceExample(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), t.TempDir(), "all", &out), out.String())
	text := out.String()
	require.Contains(t, text, "seeded payments with 3000 records")
	require.Contains(t, text, "aborted on purpose")
	require.Contains(t, text, "checked: payments-audited holds each of the 3000 input records exactly once")
}

// childEnv names the data directory of TestTxnExactlyOnceChild.
const childEnv = "STRATA_EXACTLY_ONCE_CHILD"

// TestTxnExactlyOnceChild is the child process of TestTxnExactlyOnceKillLoop: the
// example's copy mode. Skipped unless STRATA_EXACTLY_ONCE_CHILD names a
// directory.
func TestTxnExactlyOnceChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("the child of TestTxnExactlyOnceKillLoop")
	}
	pollRecords = 20
	if err := run(context.Background(), dir, "copy", os.Stdout); err != nil {
		os.Stdout.WriteString("ERR " + err.Error() + "\n")
		os.Exit(3)
	}
}

// TestTxnExactlyOnceKillLoop kills the copier with SIGKILL again and again while it
// copies (after a random number of its transactions, so at a random point of
// the next one), restarts it each time on the same directory, and at the end
// checks that the output holds every input record exactly once, in order per
// key. STRATA_LONG=1 kills it more times.
func TestTxnExactlyOnceKillLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, "seed", &out))
	kills := 6
	if os.Getenv("STRATA_LONG") != "" {
		kills = 40
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	killed, finished := 0, false
	for !finished && killed < kills {
		finished = runChild(t, dir, 1+rng.IntN(4), rng.IntN(2) == 0)
		if !finished {
			killed++
		}
	}
	t.Logf("killed the copier %d times", killed)
	if !finished {
		finished = runChild(t, dir, -1, false)
		require.True(t, finished)
	}
	out.Reset()
	require.NoError(t, run(context.Background(), dir, "check", &out))
	require.Contains(t, out.String(), "exactly once")
	t.Log(strings.TrimSpace(out.String()))
}

// runChild runs the copier in a child process and kills it with SIGKILL once
// it has committed killAfter transactions (never, if killAfter is negative), or
// if whileEnding once it is ending the killAfter-th transaction (after its
// records were produced, while the commit is under way). It reports whether the
// child finished the copy.
func runChild(t *testing.T, dir string, killAfter int, whileEnding bool) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTxnExactlyOnceChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	committed, finished := 0, false // committed counts the lines killAfter counts
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		require.False(t, strings.HasPrefix(line, "ERR "), line)
		if strings.HasPrefix(line, "copied:") {
			finished = true
		}
		if whileEnding && strings.HasSuffix(line, ", ending") || !whileEnding && strings.Contains(line, " committed: ") {
			committed++
			if committed == killAfter {
				require.NoError(t, cmd.Process.Kill())
				break
			}
		}
	}
	cmd.Wait()
	return finished
}
