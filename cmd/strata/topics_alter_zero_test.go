package main

import (
	"strings"
	"testing"
)

// TestTopicsAlterToTheZeroValue: --config with the value that is the Go zero of
// its field (unclean.leader.election.enable=false, min.compaction.lag.ms=0,
// sync.records=0) changes the topic to it, as describe prints it, instead of
// leaving the old value and saying "Altered".
func TestTopicsAlterToTheZeroValue(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--config", "unclean.leader.election.enable=true",
		"--config", "cleanup.policy=compact", "--config", "min.compaction.lag.ms=60000",
		"--config", "sync=periodic", "--config", "sync.records=10", "--config", "sync.interval.ms=100")
	ok(t, dir, "", "topics", "alter", "t", "--config", "unclean.leader.election.enable=false",
		"--config", "min.compaction.lag.ms=0", "--config", "sync.records=0")
	got := lines(ok(t, dir, "", "topics", "describe", "t"))[0]
	for _, want := range []string{"unclean.leader.election.enable=false", "min.compaction.lag.ms=0,", "sync.records=0"} {
		if !strings.Contains(got, want) {
			t.Errorf("describe: %q, want it to contain %q", got, want)
		}
	}
}
