package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGroupsResetOffsetsOfflinePartition: reset-offsets --execute of a topic with
// an offline partition fails naming it, as Kafka's does for a partition without a
// leader, and commits nothing: the offline partition's offsets (described as 0)
// would rewind the group to 0 there.
func TestGroupsResetOffsetsOfflinePartition(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders", "--partitions", "2")
	ok(t, dir, "a\nb\n", "produce", "orders", "--partition", "0")
	ok(t, dir, "c\nd\ne\n", "produce", "orders", "--partition", "1")
	ok(t, dir, "", "consume", "orders", "--group", "g", "--from-beginning")
	checkpoint := filepath.Join(dir, "orders-1", "partition.checkpoint")
	if err := os.WriteFile(checkpoint, []byte("junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range [][]string{{"--to-latest"}, {"--to-current"}, {"--shift-by", "-1"}, {"--to-offset", "1"}} {
		r := strata(t, dir, "", append([]string{"groups", "reset-offsets", "g", "--topic", "orders", "--execute"}, target...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "orders-1") || !strings.Contains(r.stderr, "offline") {
			t.Fatalf("reset-offsets %q with orders-1 offline: exit %d, stdout %q, stderr %q", target, r.code, r.stdout, r.stderr)
		}
	}
	if r := strata(t, dir, "", "groups", "describe", "g"); r.code != 0 || !strings.Contains(r.stdout, "orders  1          3") {
		t.Fatalf("groups describe after the refused resets: %+v, want orders-1 still at 3", r)
	}
}
