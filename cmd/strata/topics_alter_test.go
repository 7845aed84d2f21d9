package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTopicsAlter: --config and --delete-config change what describe shows, across
// runs (topics.json keeps it); --partitions grows the topic.
func TestTopicsAlter(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders", "--config", "retention.ms=60000", "--config", "compression.type=zstd")
	if out := ok(t, dir, "", "topics", "alter", "orders", "--config", "retention.bytes=1000000", "--config", "segment.bytes=65536",
		"--delete-config", "compression.type"); out != "Altered the configs of topic orders.\n" {
		t.Fatalf("alter: %q", out)
	}
	got := lines(ok(t, dir, "", "topics", "describe", "orders"))[0]
	for _, want := range []string{"retention.ms=60000,", "retention.bytes=1000000,", "segment.bytes=65536,", "compression.type=none,"} {
		if !strings.Contains(got, want) {
			t.Fatalf("describe: %q, want it to contain %q", got, want)
		}
	}
	if out := ok(t, dir, "", "topics", "alter", "orders", "--partitions", "3"); out != "Topic orders has 3 partitions.\n" {
		t.Fatalf("alter --partitions: %q", out)
	}
	if got := lines(ok(t, dir, "", "topics", "describe", "orders")); len(got) != 4 || !strings.Contains(got[0], "PartitionCount: 3") {
		t.Fatalf("describe after --partitions 3: %q", got)
	}
	fails(t, dir, 1, "--partitions 2: want more than the current 3", "topics", "alter", "orders", "--partitions", "2")

	// Every bad --config at once, and nothing changed.
	fails(t, dir, 2, `invalid config: retention.ms: "0": want a number above 0, or -1 for no limit; segment.bytes: "x": not an integer`,
		"topics", "alter", "orders", "--config", "segment.bytes=x", "--config", "retention.ms=0")
	fails(t, dir, 2, "--delete-config retention.weeks: unknown config", "topics", "alter", "orders", "--delete-config", "retention.weeks")
	fails(t, dir, 1, "sync (Sync): EveryRecords and Interval apply only to SyncPeriodic", "topics", "alter", "orders", "--config", "sync.interval.ms=5")
	fails(t, dir, 1, "min.insync.replicas (MinInsyncReplicas): 2, above the ReplicationFactor 1", "topics", "alter", "orders", "--config", "min.insync.replicas=2")
	if again := lines(ok(t, dir, "", "topics", "describe", "orders"))[0]; again != lines(ok(t, dir, "", "topics", "describe", "orders"))[0] || !strings.Contains(again, "retention.ms=60000,") {
		t.Fatalf("describe after refused changes: %q", again)
	}
	fails(t, dir, 1, `unknown topic "nope"`, "topics", "alter", "nope", "--config", "retention.ms=1000")
	fails(t, dir, 2, "nothing to change", "topics", "alter", "orders")
}

// TestTopicsDeleteRecords: the start offset moves up, consume from the beginning
// starts there, -1 empties the partition, and an offset above the end fails.
func TestTopicsDeleteRecords(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "2")
	ok(t, dir, "a\nb\nc\nd\n", "produce", "t", "--partition", "0")
	ok(t, dir, "x\ny\n", "produce", "t", "--partition", "1")
	if out := ok(t, dir, "", "topics", "delete-records", "t", "--partition", "0", "--offset", "2"); out != "partition: 0\tlow_watermark: 2\n" {
		t.Fatalf("delete-records: %q", out)
	}
	if out := ok(t, dir, "", "consume", "t", "--partition", "0", "--offset", "0", "--print-offset"); out != "0:2\tc\n0:3\td\n" {
		t.Fatalf("consume after delete-records: %q", out)
	}
	if out := ok(t, dir, "", "topics", "delete-records", "t", "--offset", "-1"); out != "partition: 0\tlow_watermark: 4\npartition: 1\tlow_watermark: 2\n" {
		t.Fatalf("delete-records --offset -1: %q", out)
	}
	fails(t, dir, 1, "partition 1: --offset 9 is above its end offset 2", "topics", "delete-records", "t", "--partition", "1", "--offset", "9")
	fails(t, dir, 1, "no partition 5", "topics", "delete-records", "t", "--partition", "5", "--offset", "1")
	fails(t, dir, 2, "--offset is required", "topics", "delete-records", "t")
}

// TestGroupsDelete: a deleted group is gone from the list with its offsets.
func TestGroupsDelete(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\nb\n", "produce", "t")
	ok(t, dir, "", "consume", "t", "--group", "g", "--from-beginning")
	if out := ok(t, dir, "", "groups", "list"); !strings.HasPrefix(out, "g\t") {
		t.Fatalf("groups list: %q", out)
	}
	if out := ok(t, dir, "", "groups", "delete", "g"); out != "Deleted group g.\n" {
		t.Fatalf("groups delete: %q", out)
	}
	if out := ok(t, dir, "", "groups", "list"); out != "" {
		t.Fatalf("groups list after delete: %q", out)
	}
	fails(t, dir, 1, `unknown group "g"`, "groups", "delete", "g")
	// Its offsets went with it: a consume in the group starts from --from-beginning again.
	if out := ok(t, dir, "", "consume", "t", "--group", "g", "--from-beginning"); out != "a\nb\n" {
		t.Fatalf("consume after delete: %q", out)
	}
}

// TestTopicsAlterSeveralBrokers: in a store of several brokers the change is kept
// (in a majority of the broker directories' topics.json) and checked against the
// replication factor.
func TestTopicsAlterSeveralBrokers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	ok(t, dir, "", "init", "--brokers", "3")
	ok(t, dir, "", "topics", "create", "orders", "--replication-factor", "3", "--config", "min.insync.replicas=2")
	ok(t, dir, "", "topics", "alter", "orders", "--config", "min.insync.replicas=3", "--config", "retention.ms=60000")
	got := lines(ok(t, dir, "", "topics", "describe", "orders"))[0]
	if !strings.Contains(got, "min.insync.replicas=3,") || !strings.Contains(got, "retention.ms=60000,") {
		t.Fatalf("describe: %q", got)
	}
	fails(t, dir, 1, "min.insync.replicas (MinInsyncReplicas): 4 not in [1, ReplicationFactor]", "topics", "alter", "orders", "--config", "min.insync.replicas=4")
}
