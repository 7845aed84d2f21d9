package main

import (
	"strings"
	"testing"
)

// TestDirBeforeTheCommandWithItsOwnArgs: a --dir given before the command is not
// appended to the command's arguments, where it would land after a "--" (read as
// positional arguments) and override a --dir the command was given itself: the
// command's own --dir, the later one, wins.
func TestDirBeforeTheCommandWithItsOwnArgs(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	run := func(args ...string) result {
		t.Helper()
		return strataWith(t.Context(), t, strings.NewReader(""), nil, args...)
	}
	ok(t, a, "", "topics", "create", "in-a")
	ok(t, b, "", "topics", "create", "in-b")
	if r := run("--dir", a, "topics", "describe", "--", "in-a"); r.code != 0 || !strings.HasPrefix(r.stdout, "Topic: in-a\t") {
		t.Fatalf("--dir A topics describe -- in-a: %+v", r)
	}
	if r := run("--dir", a, "topics", "list", "--dir", b); r.code != 0 || r.stdout != "in-b\n" {
		t.Fatalf("--dir A topics list --dir B: %+v, want B's topics", r)
	}
}
