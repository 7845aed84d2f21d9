package log_test

// The corruption sweep (issue 11, "Tests that must exist"): damaged files never cost
// an acknowledged record silently.
//
// A small store (sweep_store_test.go: plain, compacted and compressed topics,
// sealed, cleaned and active segments, committed group offsets), closed cleanly or
// not (power lost while open, after every acknowledged record was fsynced), gets
// exactly one damage, of every class, at a place a seed chooses
// (sweep_damage_test.go; symlinks in sweep_symlink_test.go). The store is then
// opened and judged (sweep_readback_test.go), and each case has one outcome:
//
//	harmless    everything acknowledged reads back exactly, and no error
//	detected    an error says so (Open, an offline partition, a read, seek, produce,
//	            close, the committed offsets), and nothing is lost silently elsewhere
//	trunc-loud  recovery after a crash cut acknowledged records at a partition's
//	            end, as a torn write, logged at Error
//	trunc-warn  the same, logged only at Warn
//	known-gap   silent, but a documented limit on the allow-list
//	FINDING     silent, and a bug on the allow-list, reported to be fixed
//	SILENT      no error, yet an acknowledged record is missing, changed, moved or
//	            added, or a committed offset changed
//	HANG        a call did not return, or a consumer waited for records that never came
//	PANIC
//
// The allow-list (sweep_known_gaps_test.go) says for each entry why it is there.
// SILENT, HANG and PANIC fail the test, each with the seed that replays it:
//
//	STRATA_SWEEP_SEED=<seed> go test ./log/ -run 'TestCorruptionSweep$' -v
//
// (or -args -sweep.seed=<seed>), which prints the case, its verdict and the store's
// log. By default the sweep runs defaultSweepCases cases, ten of each class and
// state; STRATA_LONG=1 runs longSweepCases. Both print the table of class × outcome
// (-v), and every case that was truncated or allow-listed; STRATA_SWEEP_VERBOSE=1
// prints every case.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	defaultSweepCases = 360
	longSweepCases    = 18000
	// sweepWaitLimit bounds a consumer's wait for records: past it, the case hung.
	sweepWaitLimit = 20 * time.Second
	// sweepWatchdog bounds a whole case (Open, reads, Close), as a hang detector only.
	sweepWatchdog = 30 * time.Second
)

var sweepSeedFlag = flag.Int64("sweep.seed", 0, "run only this case of TestCorruptionSweep")

// TestCorruptionSweep runs the cases (see above), prints the table, and fails on
// every SILENT, HANG or PANIC.
func TestCorruptionSweep(t *testing.T) {
	seeds := sweepSeeds(t)
	images := buildSweepStore(t)
	began := time.Now()
	results := runSweep(images, seeds)
	t.Logf("%d cases in %v", len(results), time.Since(began).Round(time.Millisecond))
	t.Log("\n" + sweepTable(results))
	failures := 0
	verbose := os.Getenv("STRATA_SWEEP_VERBOSE") == "1" // every case, one line each
	for _, r := range results {
		if verbose {
			t.Logf("seed %d: %v -> %v %s: %.300s", r.seed, r.damage, r.verdict.outcome, r.verdict.how, r.verdict.detail)
		}
		single := len(seeds) == 1
		if single {
			t.Logf("seed %d: %v\n-> %v (%s) %s\nstore log:\n%s", r.seed, r.damage, r.verdict.outcome, r.verdict.how, r.verdict.detail, r.logs)
		}
		if !r.verdict.outcome.failing() {
			if o := r.verdict.outcome; !verbose && !single && (o == truncatedLoud || o == truncatedWarn || o == silentKnown || o == silentFinding) {
				t.Logf("seed %d: %v -> %v %s: %.300s", r.seed, r.damage, o, r.verdict.how, r.verdict.detail)
			}
			continue
		}
		if failures++; failures <= 25 {
			t.Errorf("seed %d: %v\n-> %v: %s\nreplay: STRATA_SWEEP_SEED=%d go test ./log/ -run 'TestCorruptionSweep$' -v",
				r.seed, r.damage, r.verdict.outcome, r.verdict.detail, r.seed)
		}
	}
	if failures > 25 {
		t.Errorf("... and %d more failing cases", failures-25)
	}
}

// The sweep's store, undamaged, is harmless: the judge's baseline.
func TestCorruptionSweepUndamaged(t *testing.T) {
	images := buildSweepStore(t)
	for _, clean := range []bool{true, false} {
		var logs logBuffer
		v := judgeStore(testContext(t), images.image(clean), sweepDir, images.acked, &logs)
		require.Equal(t, harmless, v.outcome, "clean=%v: %s %s\n%s", clean, v.how, v.detail, logs.String())
	}
}

// sweepSeeds returns the seeds of the cases to run: one from STRATA_SWEEP_SEED or
// -sweep.seed, else 1 to the number of cases of the mode.
func sweepSeeds(t *testing.T) []int64 {
	if env := os.Getenv("STRATA_SWEEP_SEED"); env != "" {
		seed, err := strconv.ParseInt(env, 10, 64)
		require.NoError(t, err, "STRATA_SWEEP_SEED")
		return []int64{seed}
	}
	if *sweepSeedFlag != 0 {
		return []int64{*sweepSeedFlag}
	}
	n := defaultSweepCases
	if os.Getenv("STRATA_LONG") == "1" {
		n = longSweepCases
	}
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = int64(i + 1)
	}
	return seeds
}

// sweepResult is one case.
type sweepResult struct {
	seed    int64
	damage  damage
	verdict verdict
	logs    string
}

// runSweep runs the cases on a few goroutines. After three hangs it stops: each
// costs sweepWaitLimit, and one is enough to fail.
func runSweep(images *sweepImages, seeds []int64) []sweepResult {
	results := make([]sweepResult, len(seeds))
	var mu sync.Mutex
	hangs, next := 0, 0
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := hangs >= 3
				mu.Unlock()
				if i >= len(seeds) || stop {
					return
				}
				results[i] = runCase(images, seeds[i])
				if results[i].verdict.outcome == hung {
					mu.Lock()
					hangs++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	ran := results[:0]
	for _, r := range results {
		if r.seed != 0 {
			ran = append(ran, r)
		}
	}
	return ran
}

// runCase damages a copy of a store as seed says and judges it, on a goroutine
// that a watchdog gives sweepWatchdog.
func runCase(images *sweepImages, seed int64) sweepResult {
	class := damageClasses[int(seed/2)%len(damageClasses)]
	r := sweepResult{seed: seed, damage: damage{class: class.name, clean: seed%2 == 0}}
	fsys := images.image(r.damage.clean)
	d := &damager{fsys: fsys, rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed)), files: scanStore(fsys)}
	if !r.damage.clean {
		d.recoveryPoints = images.recoveryPoints
	}
	if !class.apply(d, &r.damage) {
		r.verdict = verdict{outcome: panicked, detail: "the store has nothing this class can damage: the sweep's store is wrong"}
		return r
	}
	var logs logBuffer
	done := make(chan verdict, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- verdict{outcome: panicked, detail: fmt.Sprintf("%v\n%s", p, stack())}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), sweepWaitLimit)
		defer cancel()
		done <- judgeStore(ctx, fsys, sweepDir, images.acked, &logs)
	}()
	select {
	case r.verdict = <-done:
	case <-time.After(sweepWatchdog): // a hang detector, not a wait
		r.verdict = verdict{outcome: hung, detail: fmt.Sprintf("no verdict after %v", sweepWatchdog)}
	}
	if r.verdict.outcome == silent {
		for _, gap := range knownGaps {
			if gap.matches(r.damage) {
				r.verdict.outcome, r.verdict.how = silentKnown, gap.name
				if gap.finding {
					r.verdict.outcome = silentFinding
				}
				break
			}
		}
	}
	r.logs = logs.String()
	return r
}

func stack() []byte {
	buf := make([]byte, 64<<10)
	return buf[:runtime.Stack(buf, false)]
}

// sweepTable formats the outcomes: a row per class and per state (clean or not),
// a column per outcome; then, for the detected cases, which step told.
func sweepTable(results []sweepResult) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "class\tstate\t")
	for o := harmless; o <= panicked; o++ {
		fmt.Fprintf(w, "%v\t", o)
	}
	fmt.Fprintln(w)
	total := map[outcome]int{}
	how := map[string]int{}
	for _, class := range damageClasses {
		for _, clean := range []bool{true, false} {
			counts := map[outcome]int{}
			for _, r := range results {
				if r.damage.class == class.name && r.damage.clean == clean {
					counts[r.verdict.outcome]++
					total[r.verdict.outcome]++
					if r.verdict.outcome == detected {
						how[r.verdict.how]++
					}
				}
			}
			state := "unclean"
			if clean {
				state = "clean"
			}
			fmt.Fprintf(w, "%s\t%s\t", class.name, state)
			for o := harmless; o <= panicked; o++ {
				fmt.Fprintf(w, "%d\t", counts[o])
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprint(w, "total\t\t")
	for o := harmless; o <= panicked; o++ {
		fmt.Fprintf(w, "%d\t", total[o])
	}
	fmt.Fprintln(w)
	w.Flush()
	fmt.Fprintf(&b, "detected by: %v\n", how)
	return b.String()
}
