package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestREADMETranscript runs the CLI session in README.md, command by command, on a
// fresh store, and checks that each command succeeds and prints the lines the README
// shows (in any order: the order of records of different partitions may vary).
func TestREADMETranscript(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	marker := strings.Index(text, "<!-- cli-transcript")
	if marker < 0 {
		t.Fatal("README.md has no cli-transcript block")
	}
	start := strings.Index(text[marker:], "```console\n")
	end := strings.Index(text[marker+start+len("```console\n"):], "```")
	if start < 0 || end < 0 {
		t.Fatal("README.md's cli-transcript block is not a ```console block")
	}
	block := text[marker+start+len("```console\n") : marker+start+len("```console\n")+end]

	dir := t.TempDir()
	env := func(key string) string {
		if key == "STRATA_DIR" {
			return dir
		}
		return ""
	}
	type step struct {
		command string
		want    []string
	}
	var steps []step
	for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			steps = append(steps, step{command: cmd})
			continue
		}
		if len(steps) == 0 {
			t.Fatalf("output line %q before any command", line)
		}
		steps[len(steps)-1].want = append(steps[len(steps)-1].want, line)
	}
	if len(steps) < 5 {
		t.Fatalf("the transcript has %d commands", len(steps))
	}
	for _, s := range steps {
		stdin, args := parseTranscriptCommand(t, s.command)
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(stdin), &stdout, &stderr, env); code != 0 {
			t.Fatalf("%s: exit %d: %s", s.command, code, stderr.String())
		}
		got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if stdout.Len() == 0 {
			got = nil
		}
		want := slices.Clone(s.want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", s.command, got, want)
		}
	}
}

// parseTranscriptCommand splits "[printf 'X' | ]strata ARGS" into the standard input
// (X with \n and \t escapes expanded) and ARGS (split on spaces: the transcript quotes
// nothing else).
func parseTranscriptCommand(t *testing.T, command string) (stdin string, args []string) {
	if rest, ok := strings.CutPrefix(command, "printf '"); ok {
		quoted, after, found := strings.Cut(rest, "' | ")
		if !found {
			t.Fatalf("cannot parse %q", command)
		}
		stdin, command = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(quoted), after
	}
	fields := strings.Fields(command)
	if len(fields) == 0 || fields[0] != "strata" {
		t.Fatalf("not a strata command: %q", command)
	}
	return stdin, fields[1:]
}
