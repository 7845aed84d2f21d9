package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/internal/keyvalue"
)

// verify reads the whole store without changing it and exits 1 naming a damaged
// partition; repair cuts the damage, says which offsets it gave up and where it kept
// the removed bytes, and the partition serves again.
func TestVerifyAndRepair(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders", "--partitions", "2")
	ok(t, dir, "a\nb\n", "produce", "orders", "--partition", "0")
	ok(t, dir, "c\n", "produce", "orders", "--partition", "1")
	ok(t, dir, "d\n", "produce", "orders", "--partition", "1")
	out := ok(t, dir, "", "verify")
	if !strings.Contains(out, "orders-0: ok (1 segments, 1 batches") || !strings.Contains(out, "orders-1: ok (1 segments, 2 batches") {
		t.Fatalf("verify of a healthy store: %q", out)
	}

	// A flipped bit in the records of orders-1's second batch: its CRC fails.
	log := filepath.Join(dir, "orders-1", "00000000000000000000.log")
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-2] ^= 0x20
	if err := os.WriteFile(log, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := strata(t, dir, "", "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "orders-1: corrupt data in "+log) || !strings.Contains(r.stdout, "orders-0: ok") {
		t.Fatalf("verify: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	after, err := os.ReadFile(log)
	if err != nil || string(after) != string(data) {
		t.Fatalf("verify changed the segment (%v)", err)
	}

	fails(t, dir, 2, "--partition P is required", "repair", "orders")
	out = ok(t, dir, "", "repair", "orders", "--partition", "1")
	for _, want := range []string{"found: corrupt data in " + log, "did: copied 00000000000000000000.log from position", "gave up: offsets 1 to 1 (1 records at most)",
		"orders-1 repaired: offsets 0 to 1; the next record gets offset 2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("repair: stdout %q, want %q", out, want)
		}
	}
	ok(t, dir, "", "verify")
	if got := ok(t, dir, "", "consume", "orders", "--partition", "1", "--from-beginning"); got != "c\n" {
		t.Fatalf("consume after repair: %q", got)
	}
	ok(t, dir, "e\n", "produce", "orders", "--partition", "1")
	if got := ok(t, dir, "", "consume", "orders", "--partition", "1", "--from-beginning", "--print-offset"); !strings.Contains(got, "2") || !strings.Contains(got, "e") {
		t.Fatalf("consume after a produce: %q", got)
	}
	if got := ok(t, dir, "", "repair", "orders", "--partition", "1"); got != "orders-1: nothing to repair\n" {
		t.Fatalf("second repair: %q", got)
	}
}

// After a power loss, verify reports records the store recorded as fsynced
// (recovery-points.checkpoint) that the newest segment no longer holds, though it
// was cut exactly at a batch boundary; repair covers their offsets, so that no
// offset is given to a second record.
func TestVerifyAndRepairMissingTail(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders")
	ok(t, dir, "a\n", "produce", "orders", "--partition", "0")
	ok(t, dir, "b\n", "produce", "orders", "--partition", "0")
	// The power went while the store was open: the partition's checkpoint is not
	// clean and its recovery point is where the store opened, and the second batch
	// is gone from the newest segment.
	partitionDir := filepath.Join(dir, "orders-0")
	unclean := keyvalue.Encode("strata-partition-checkpoint", 2, "log-start-offset", "0", "recovery-point", "0", "newest-segment", "0", "clean-shutdown", "false")
	if err := os.WriteFile(filepath.Join(partitionDir, "partition.checkpoint"), unclean, 0o644); err != nil {
		t.Fatal(err)
	}
	segment := filepath.Join(partitionDir, "00000000000000000000.log")
	data, err := os.ReadFile(segment)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(segment, data[:len(data)/2], 0o644); err != nil { // two batches of the same size
		t.Fatal(err)
	}
	fails(t, dir, 1, "damaged", "verify")
	if r := strata(t, dir, "", "verify"); !strings.Contains(r.stdout, "the log ends at offset 1, but every offset below 2 was fsynced") {
		t.Fatalf("verify: stdout %q", r.stdout)
	}
	out := ok(t, dir, "", "repair", "orders", "--partition", "0")
	if !strings.Contains(out, "gave up: offsets 1 to 1") || !strings.Contains(out, "the next record gets offset 2") {
		t.Fatalf("repair: stdout %q", out)
	}
	ok(t, dir, "c\n", "produce", "orders", "--partition", "0")
	if got := ok(t, dir, "", "consume", "orders", "--partition", "0", "--from-beginning", "--print-offset"); got != "0:0\ta\n0:2\tc\n" {
		t.Fatalf("consume after the repair: %q", got)
	}
}
