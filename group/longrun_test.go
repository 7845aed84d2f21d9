package group

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// longRun reports whether STRATA_LONG=1 asks for the long version of randomized tests.
func longRun() bool { return os.Getenv("STRATA_LONG") == "1" }

// testSeeds returns the seeds a randomized test runs: STRATA_SEED alone if set (to
// replay one), else 0..short-1, or 0..long-1 under STRATA_LONG=1.
func testSeeds(t *testing.T, short, long int) []uint64 {
	if s := os.Getenv("STRATA_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("STRATA_SEED=%q: %v", s, err)
		}
		return []uint64{seed}
	}
	n := short
	if longRun() {
		n = long
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i)
	}
	return seeds
}

// seedName names a seed's subtest.
func seedName(seed uint64) string { return fmt.Sprintf("seed=%d", seed) }

// envVerbose reports whether STRATA_VERBOSE=1 asks randomized tests to log every step.
func envVerbose() bool { return os.Getenv("STRATA_VERBOSE") == "1" }
