package main

import (
	"strings"
	"testing"
)

// TestGroupsResetOffsetsDryRun: without --execute the plan is printed and nothing
// is committed (a note on stderr says so unless --dry-run is given); --execute
// commits the same plan.
func TestGroupsResetOffsetsDryRun(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\nb\nc\nd\n", "produce", "t")
	ok(t, dir, "", "consume", "t", "--group", "g", "--from-beginning")
	plan := "GROUP  TOPIC  PARTITION  NEW-OFFSET\ng      t      0          1\n"

	r := strata(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "1")
	if r.code != 0 || r.stdout != plan || !strings.Contains(r.stderr, "a dry run: nothing changed; add --execute") {
		t.Fatalf("dry run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "1", "--dry-run"); got != plan {
		t.Fatalf("--dry-run: %q", got)
	}
	if out := ok(t, dir, "", "consume", "t", "--group", "g"); out != "" {
		t.Fatalf("after the dry runs the group is still at the end, yet consume printed %q", out)
	}
	if got := ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "1", "--execute"); got != plan {
		t.Fatalf("--execute: %q", got)
	}
	if out := ok(t, dir, "", "consume", "t", "--group", "g"); out != "b\nc\nd\n" {
		t.Fatalf("after --execute: %q", out)
	}
	fails(t, dir, 2, "give --execute or --dry-run, not both", "groups", "reset-offsets", "g", "--topic", "t", "--to-current", "--execute", "--dry-run")
}

// TestGroupsResetOffsetsTargets: --to-current, --shift-by (clamped to the
// partition's records) and --to-datetime in both of its forms.
func TestGroupsResetOffsetsTargets(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\nb\nc\nd\ne\n", "produce", "t")
	ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "3", "--execute")
	newOffset := func(args ...string) string {
		t.Helper()
		out := lines(ok(t, dir, "", append([]string{"groups", "reset-offsets", "g", "--topic", "t", "--dry-run"}, args...)...))
		if len(out) != 2 {
			t.Fatalf("%q: %q", args, out)
		}
		fields := strings.Fields(out[1])
		return fields[len(fields)-1]
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--to-current"}, "3"},
		{[]string{"--shift-by", "1"}, "4"},
		{[]string{"--shift-by", "-2"}, "1"},
		{[]string{"--shift-by", "-10"}, "0"},
		{[]string{"--shift-by", "10"}, "5"},
		{[]string{"--to-datetime", "2000-01-01T00:00:00.000"}, "0"},
		{[]string{"--to-datetime", "2000-01-01T00:00:00Z"}, "0"},
		{[]string{"--to-datetime", "2999-01-01T00:00:00+02:00"}, "5"},
	} {
		if got := newOffset(tc.args...); got != tc.want {
			t.Errorf("%q: new offset %s, want %s", tc.args, got, tc.want)
		}
	}
	// A group without commits: --to-current and --shift-by start from the first offset.
	out := ok(t, dir, "", "groups", "reset-offsets", "fresh", "--topic", "t", "--shift-by", "2", "--dry-run")
	if !strings.HasSuffix(out, "fresh  t      0          2\n") {
		t.Fatalf("--shift-by of a group without commits: %q", out)
	}
	fails(t, dir, 2, `--to-datetime "yesterday": want RFC 3339`, "groups", "reset-offsets", "g", "--topic", "t", "--to-datetime", "yesterday")
}
