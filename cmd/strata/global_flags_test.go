package main

import (
	"strings"
	"testing"
)

// TestGlobalFlagsBeforeTheCommand: --dir works before the command as after it (in
// both spellings), --version prints the version, and help COMMAND is COMMAND --help.
func TestGlobalFlagsBeforeTheCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) result {
		t.Helper()
		return strataWith(t.Context(), t, strings.NewReader(""), nil, args...)
	}
	if r := run("--dir", dir, "topics", "create", "orders"); r.code != 0 || r.stdout != "Created topic orders.\n" {
		t.Fatalf("--dir before the command: %+v", r)
	}
	if r := run("--dir="+dir, "topics", "list"); r.code != 0 || r.stdout != "orders\n" {
		t.Fatalf("--dir=DIR before the command: %+v", r)
	}
	if r := run("-dir", dir, "topics", "describe", "orders"); r.code != 0 || !strings.HasPrefix(r.stdout, "Topic: orders\t") {
		t.Fatalf("-dir before the command: %+v", r)
	}
	if r := run("topics", "list", "--dir", dir); r.code != 0 || r.stdout != "orders\n" {
		t.Fatalf("--dir after the command: %+v", r)
	}
	if r := run("--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "strata ") || !strings.Contains(r.stdout, " go1.") {
		t.Fatalf("--version: %+v", r)
	}
	if r := run("--dir", dir, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "strata ") {
		t.Fatalf("--dir DIR --version: %+v", r)
	}
	help := run("topics", "alter", "--help")
	if help.code != 0 || !strings.HasPrefix(help.stdout, "Usage: strata topics alter NAME") {
		t.Fatalf("topics alter --help: %+v", help)
	}
	if r := run("help", "topics", "alter"); r != help {
		t.Fatalf("help topics alter: %+v, want what --help prints", r)
	}
	if r := run("--dir", dir, "help", "produce"); r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: strata produce TOPIC") {
		t.Fatalf("help produce: %+v", r)
	}
	if r := run("help", "topics", "--dir", dir); r.code != 0 || !strings.HasPrefix(r.stdout, "strata topics: ") {
		t.Fatalf("help topics: %+v", r)
	}
	if r := run("help"); r.code != 0 || !strings.Contains(r.stdout, "strata --version") {
		t.Fatalf("help: %+v", r)
	}
	if r := run("help", "nope"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "nope"`) {
		t.Fatalf("help nope: %+v", r)
	}
	if r := run("--dir"); r.code != 2 || !strings.Contains(r.stderr, "flag needs an argument: --dir") {
		t.Fatalf("--dir alone: %+v", r)
	}
	if r := run("--dir", dir); r.code != 2 || !strings.Contains(r.stderr, "missing command") {
		t.Fatalf("--dir DIR alone: %+v", r)
	}
}
