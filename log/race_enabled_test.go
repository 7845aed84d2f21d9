//go:build race

package log_test

// raceEnabled says the tests run under the race detector, which makes sync.Pool
// drop items at random: pooled buffers are then allocated again.
const raceEnabled = true
