package main

import "testing"

// TestConsumeTimeoutMsOverflow: a --timeout-ms whose nanoseconds overflow int64
// (18446744073710 ms is 2^64 ns and 448384 more) is refused, rather than wrapping
// into a wait of under a millisecond that ends the consume at once.
func TestConsumeTimeoutMsOverflow(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	fails(t, dir, 2, "--timeout-ms 18446744073710: at most 9223372036854", "consume", "t", "--timeout-ms", "18446744073710")
}
