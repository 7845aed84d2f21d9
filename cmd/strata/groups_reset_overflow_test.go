package main

import (
	"strings"
	"testing"
)

// TestGroupsResetOffsetsShiftByOverflow: a --shift-by so large that the committed
// offset plus it overflows int64 still moves to the end offset (a huge negative
// one to the first offset), not to the other end.
func TestGroupsResetOffsetsShiftByOverflow(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\nb\nc\nd\ne\n", "produce", "t")
	ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "3", "--execute")
	for shift, want := range map[string]string{"9223372036854775807": "5", "-9223372036854775808": "0"} {
		out := ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--dry-run", "--shift-by", shift)
		if fields := strings.Fields(out); fields[len(fields)-1] != want {
			t.Errorf("--shift-by %s: %q, want new offset %s", shift, out, want)
		}
	}
}

// TestGroupsResetOffsetsDryRunCreatesNoGroup: a dry run for a group that does not
// exist leaves it not existing.
func TestGroupsResetOffsetsDryRunCreatesNoGroup(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\n", "produce", "t")
	ok(t, dir, "", "groups", "reset-offsets", "fresh", "--topic", "t", "--to-earliest", "--dry-run")
	if out := ok(t, dir, "", "groups", "list"); out != "" {
		t.Fatalf("groups list after a dry run: %q", out)
	}
}
