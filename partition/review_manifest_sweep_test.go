package partition_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestReviewManifestScrubDuringCompaction: Scrub of the state a crash leaves at every
// operation of a compaction (its swap pending or not) reports no problem, and neither
// does one after Open finished the swap.
func TestReviewManifestScrubDuringCompaction(t *testing.T) {
	for _, mode := range crashModes {
		for n := int64(1); ; n++ {
			fsys := vfs.NewCrashable()
			gate := newOpGate()
			p := compactCrashSetup(t, vfs.NewFaulty(fsys, gate.inject))
			gate.arm(n)
			done := make(chan error, 1)
			go func() {
				_, err := p.ForceCompact(context.Background())
				done <- err
			}()
			var crashed *vfs.CrashableFS
			reached := true
			select {
			case op := <-gate.stopped:
				crashed = fsys.Crash(mode, n)
				close(gate.release)
				<-done
				_ = op
			case err := <-done:
				gate.disarm()
				require.NoError(t, err)
				reached = false
				crashed = fsys.Crash(mode, n)
			}
			require.NoError(t, p.Close())
			opts := compactCrashOptions()
			opts.FS = crashed
			report, err := partition.Scrub(partitionDir, &opts)
			require.NoError(t, err)
			problems := report.Problems
			if report.PendingCompaction {
				// Scrub reads the segments as they are: with a swap half done,
				// offsets are missing until Open finishes it. Only the manifest's
				// verdicts count here.
				problems = manifestProblems(problems)
			}
			require.Empty(t, problems, "%v op %d: scrub (pending %v)", mode, n, report.PendingCompaction)
			q, err := openAt(crashed, compactCrashOptions())
			require.NoError(t, err, "%v op %d", mode, n)
			require.NoError(t, q.Verify(context.Background()))
			require.NoError(t, q.Close())
			report, err = partition.Scrub(partitionDir, &opts)
			require.NoError(t, err)
			require.Empty(t, report.Problems, fmt.Sprintf("%v op %d: scrub after open", mode, n))
			if !reached {
				break
			}
		}
	}
}

// manifestProblems returns the problems that come from the manifest's checks.
func manifestProblems(problems []error) []error {
	var out []error
	for _, p := range problems {
		msg := p.Error()
		if strings.Contains(msg, "manifest") || strings.Contains(msg, "sealed") {
			out = append(out, p)
		}
	}
	return out
}

// hasSwap reports whether the partition directory holds a .log.swap file.
func hasSwap(t *testing.T, fsys vfs.FS) bool {
	names, err := fsys.ReadDir(partitionDir)
	require.NoError(t, err)
	for _, name := range names {
		if strings.HasSuffix(name, ".log.swap") {
			return true
		}
	}
	return false
}

// TestReviewManifestCrashWhileFinishingSwap: a crash at every operation of a
// compaction that leaves its swap pending, then a crash at every operation of the
// Open that finishes it: the Open after that succeeds (no false alarm from the
// manifest), and Verify passes.
func TestReviewManifestCrashWhileFinishingSwap(t *testing.T) {
	stride := int64(7)
	if longRun() {
		stride = 1
	}
	checked := 0
	for n := int64(1); ; n += stride {
		fsys := vfs.NewCrashable()
		gate := newOpGate()
		p := compactCrashSetup(t, vfs.NewFaulty(fsys, gate.inject))
		gate.arm(n)
		done := make(chan error, 1)
		go func() {
			_, err := p.ForceCompact(context.Background())
			done <- err
		}()
		var crashed *vfs.CrashableFS
		reached := true
		select {
		case <-gate.stopped:
			crashed = fsys.Crash(vfs.DropUnsynced, n)
			close(gate.release)
			<-done
		case <-done:
			gate.disarm()
			reached = false
		}
		require.NoError(t, p.Close())
		if !reached {
			break
		}
		if !hasSwap(t, crashed) {
			continue
		}
		for m := int64(1); ; m++ {
			image := crashed.Crash(vfs.DropUnsynced, 0) // a copy
			rgate := newOpGate()
			rgate.arm(m)
			type result struct {
				p   *partition.Partition
				err error
			}
			opened := make(chan result, 1)
			go func() {
				q, err := openAt(vfs.NewFaulty(image, rgate.inject), compactCrashOptions())
				opened <- result{q, err}
			}()
			var again *vfs.CrashableFS
			finished := false
			select {
			case <-rgate.stopped:
				again = image.Crash(vfs.DropUnsynced, m)
				close(rgate.release)
			case res := <-opened:
				rgate.disarm()
				require.NoError(t, res.err)
				require.NoError(t, res.p.Close())
				finished = true
			}
			if finished {
				break
			}
			res := <-opened
			require.NoError(t, res.err)
			require.NoError(t, res.p.Close())
			q, err := openAt(again, compactCrashOptions())
			require.NoError(t, err, "compaction crashed before op %d, its recovery before op %d", n, m)
			require.NoError(t, q.Verify(context.Background()), "compaction crashed before op %d, its recovery before op %d", n, m)
			require.NoError(t, q.Close())
			checked++
		}
	}
	require.Positive(t, checked)
}
