package partition_test

// The real crash test: a child process appends to a partition on the OS file system
// and reports each acknowledgement on stdout; the parent SIGKILLs it at a random
// acknowledgement, reopens the partition and checks that everything acknowledged is
// there, then lets the next child continue in the same directory.
//
// A SIGKILL loses nothing the kernel has accepted, so this tests the process side of
// durability (what is acknowledged was written and fsynced, recovery of whatever
// half-finished state the process left); the CrashableFS tests cover power loss.

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// killChildEnv names the environment variable holding the partition directory of the
// child process; TestKillChild does nothing without it.
const killChildEnv = "STRATA_KILL_CHILD"

// killSeedEnv overrides the seed of TestKillDuringAppends.
const killSeedEnv = "STRATA_SEED"

// killOptions are the child's and the parent's options: default sync policy (fsync
// before every acknowledgement), 64 KiB segments so that rounds roll segments.
func killOptions() *partition.Options { return &partition.Options{SegmentBytes: 64 << 10} }

// killValue is the value the child stores at offset o: the parent checks every record
// against it.
func killValue(o int64) []byte {
	return []byte(fmt.Sprintf("kill/%d/%s", o, recordFiller[:o%193]))
}

// TestKillChild is the child process of TestKillDuringAppends, skipped unless
// STRATA_KILL_CHILD names a directory. Four goroutines append single records and
// small batches forever; after each acknowledged append the child writes "offset
// count\n" to stdout with one unbuffered write, so a whole line means acknowledged.
//
// A value depends on the offset it lands at, which Append assigns; so that the child
// knows the offset in advance, a goroutine holds next (under mu) from choosing its
// offsets until its batch is written to the .log, which the file system wrapper
// reports. The fsync, and the wait for it, happen after mu is released: appends still
// share fsyncs.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("the child of TestKillDuringAppends")
	}
	fail := func(format string, args ...any) {
		os.Stdout.Write([]byte("ERR " + fmt.Sprintf(format, args...) + "\n"))
		os.Exit(3)
	}
	var written atomic.Pointer[func()] // called when the next .log write starts
	fsys := vfs.NewFaulty(vfs.OS, func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpWrite && strings.HasSuffix(path, segment.LogSuffix) {
			if f := written.Swap(nil); f != nil {
				(*f)()
			}
		}
		return nil
	})
	opts := killOptions()
	opts.FS = fsys
	p, err := partition.Open(dir, opts)
	if err != nil {
		fail("open: %v", err)
	}
	var mu sync.Mutex
	next := p.EndOffset()
	seed, _ := strconv.ParseUint(os.Getenv(killSeedEnv), 10, 64)
	for w := range 4 {
		go func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for {
				count := int64(1)
				if rng.IntN(2) == 0 {
					count = 2 + rng.Int64N(7)
				}
				mu.Lock()
				base := next
				next += count
				records := make([]partition.Record, count)
				for i := range records {
					records[i] = partition.Record{Value: killValue(base + int64(i)), Timestamp: 1_700_000_000_000 + base}
				}
				unlock := mu.Unlock
				written.Store(&unlock)
				got, err := p.Append(context.Background(), records)
				if err != nil {
					fail("append at %d: %v", base, err)
				}
				if got != base {
					fail("append landed at %d, expected %d", got, base)
				}
				os.Stdout.Write([]byte(fmt.Sprintf("%d %d\n", base, count)))
			}
		}()
	}
	select {} // until killed
}

// TestKillDuringAppends runs the child of TestKillChild several times on one
// directory, SIGKILLs each at a random acknowledgement (seeded; STRATA_SEED replays
// the numbers, though not the child's timing), and checks after each kill that every
// acknowledged offset is there with its value, that offsets run from 0 to the end
// offset without a gap, and that every record holds the value of its offset.
func TestKillDuringAppends(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("in the child")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	seed := uint64(1)
	if s := os.Getenv(killSeedEnv); s != "" {
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	rounds := 5
	if longRun() {
		rounds = 50
	}
	t.Logf("seed %d (%s=%d replays it), %d rounds", seed, killSeedEnv, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0x4b111))
	dir := t.TempDir()
	acked := map[int64]bool{}
	began := time.Now()
	for round := range rounds {
		target := 1 + rng.IntN(300)
		lines := runAndKill(t, exe, dir, seed+uint64(round), target)
		for _, line := range lines {
			var base, count int64
			_, err := fmt.Sscanf(line, "%d %d", &base, &count)
			require.NoError(t, err, "child line %q", line)
			for o := base; o < base+count; o++ {
				require.False(t, acked[o], "offset %d acknowledged twice", o)
				acked[o] = true
			}
		}
		p, err := partition.Open(dir, killOptions())
		require.NoError(t, err, "round %d", round)
		require.False(t, p.RecoveryReport().CleanShutdown)
		end := p.EndOffset()
		r := p.NewReader(0, 0)
		want := int64(0)
		for {
			rec, err := r.TryNext()
			require.NoError(t, err, "round %d: reading offset %d of [0, %d)", round, want, end)
			if rec == nil {
				break
			}
			require.Equal(t, want, rec.Offset, "round %d: offsets must be contiguous", round)
			require.Equal(t, string(killValue(want)), string(rec.Value), "round %d: offset %d", round, want)
			want++
		}
		require.Equal(t, end, want)
		for o := range acked {
			require.Less(t, o, end, "round %d: acknowledged offset %d lost (end offset %d)", round, o, end)
		}
		t.Logf("round %d: killed after %d acknowledgements (%d lines read), %d offsets acknowledged in all, end offset %d, %d bytes truncated",
			round, target, len(lines), len(acked), end, truncatedBytes(p.RecoveryReport()))
		require.NoError(t, p.Close())
	}
	t.Logf("%d rounds in %v", rounds, time.Since(began).Round(time.Millisecond))
}

func truncatedBytes(report partition.RecoveryReport) int64 {
	var n int64
	for _, tr := range report.Truncated {
		n += tr.Bytes
	}
	return n
}

// runAndKill starts the child on dir, SIGKILLs it once it has acknowledged target
// appends, and returns every whole line it wrote: those read before the kill and
// those still in the pipe after it.
func runAndKill(t *testing.T, exe, dir string, seed uint64, target int) []string {
	t.Helper()
	cmd := exec.Command(exe, "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir, fmt.Sprintf("%s=%d", killSeedEnv, seed))
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
			break // the child is gone; a line without its newline was not acknowledged
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "ERR ") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", line)
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
