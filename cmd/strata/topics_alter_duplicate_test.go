package main

import (
	"testing"
)

// TestTopicsAlterSetAndDeleteOneConfig: a config both set and deleted in one alter
// is refused (Kafka: "duplicate config keys"), and nothing changes.
func TestTopicsAlterSetAndDeleteOneConfig(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--config", "retention.ms=60000")
	before := lines(ok(t, dir, "", "topics", "describe", "t"))[0]
	fails(t, dir, 1, "retention.ms", "topics", "alter", "t", "--config", "retention.ms=1000", "--delete-config", "retention.ms")
	if after := lines(ok(t, dir, "", "topics", "describe", "t"))[0]; after != before {
		t.Fatalf("describe after a refused alter: %q, was %q", after, before)
	}
}
