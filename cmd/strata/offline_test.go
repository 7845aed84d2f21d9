package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A store with a corrupt partition: describe shows it offline with the cause;
// commands that need it exit non-zero naming it; the others work.
func TestOfflinePartition(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders", "--partitions", "2")
	ok(t, dir, "a\nb\n", "produce", "orders", "--partition", "0")
	ok(t, dir, "c\n", "produce", "orders", "--partition", "1")
	checkpoint := filepath.Join(dir, "orders-1", "partition.checkpoint")
	if err := os.WriteFile(checkpoint, []byte("junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := strata(t, dir, "", "topics", "describe", "orders")
	if r.code != 0 || !strings.Contains(r.stdout, "Partition: 1\tLeader: -1\tReplicas: 0\tIsr: \tOffline: corrupt data in "+checkpoint) || !strings.Contains(r.stdout, "Partition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLeaderEpoch: 0\tStartOffset: 0\tEndOffset: 2") {
		t.Fatalf("describe: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "level=ERROR") || !strings.Contains(r.stderr, "partition=orders-1") {
		t.Fatalf("describe: stderr %q: want the offline partition logged", r.stderr)
	}
	for _, args := range [][]string{
		{"consume", "orders", "--from-beginning"},
		{"consume", "orders", "--partition", "1", "--from-beginning"},
		{"produce", "orders", "--partition", "1"},
		{"consume", "orders", "--group", "g", "--max-messages", "3"},
	} {
		r := strata(t, dir, "x\n", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "partition orders-1 is offline: corrupt data in "+checkpoint) {
			t.Fatalf("strata %s: exit %d, stderr %q: want a failure naming orders-1", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	r = strata(t, dir, "", "consume", "orders", "--partition", "0", "--from-beginning")
	if r.code != 0 || r.stdout != "a\nb\n" {
		t.Fatalf("consume partition 0: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
