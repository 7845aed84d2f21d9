package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stratalog/strata/log"
)

// TestLockedDirectory: while another Store holds the directory every command that
// opens it fails at once with one clear line; dump still works.
func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\n", "produce", "t")
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, args := range [][]string{
		{"topics", "list"},
		{"topics", "describe"},
		{"topics", "create", "u"},
		{"topics", "delete", "t"},
		{"produce", "t"},
		{"consume", "t", "--from-beginning"},
		{"consume", "t", "--follow"},
		{"consume", "t", "--group", "g"},
		{"groups", "list"},
		{"groups", "describe", "g"},
		{"groups", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--execute"},
	} {
		r := fails(t, dir, 1, "is locked: another process", args...)
		if strings.Contains(r.stderr, "strata/log") {
			t.Errorf("%q: %q carries a package prefix", args, r.stderr)
		}
	}
	if out := ok(t, dir, "", "dump", "t-0/00000000000000000000.log", "--print-data"); !strings.Contains(out, "payload: a") {
		t.Fatalf("dump while locked:\n%s", out)
	}
}

// TestUsageErrors: a wrong command line exits 2 with one line naming the problem.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "missing command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--partitions", "3"}, "a command's flags go after it"},
		{[]string{"topics"}, "missing subcommand (create, list, describe, alter, delete-records, delete)"},
		{[]string{"topics", "rename"}, `unknown subcommand "rename"`},
		{[]string{"topics", "create"}, "topics create: missing NAME (see 'strata topics create --help')"},
		{[]string{"topics", "create", "a", "b"}, `unexpected argument "b"`},
		{[]string{"topics", "create", "a", "--partitions", "0"}, "--partitions 0: want 1 to 100000"},
		{[]string{"topics", "create", "a", "--partitions", "x"}, `invalid value "x" for flag --partitions`},
		{[]string{"topics", "create", "a", "--bogus"}, "flag provided but not defined: --bogus"},
		{[]string{"topics", "create", "a", "--config", "nope=1"}, `invalid config: nope: "1": unknown config`},
		{[]string{"topics", "create", "a b"}, `invalid topic name: "a b" holds ' '`},
		{[]string{"topics", "create", "__internal"}, ""}, // refused by the store: exit 1, below
		{[]string{"topics", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"topics", "delete"}, "missing NAME"},
		{[]string{"consume"}, "missing TOPIC"},
		{[]string{"consume", "t", "--offset", "3"}, "--offset requires --partition"},
		{[]string{"consume", "t", "--offset", "-3", "--partition", "0"}, "--offset -3: must not be negative"},
		{[]string{"consume", "t", "--from-beginning", "--from-time", "2024-01-01T00:00:00Z"}, "at most one of --from-beginning, --offset, --from-time"},
		{[]string{"consume", "t", "--from-beginning", "--offset", "1", "--partition", "0"}, "at most one of"},
		{[]string{"consume", "t", "--from-time", "yesterday"}, `--from-time "yesterday": want an RFC 3339 time`},
		{[]string{"consume", "t", "--max-messages", "0"}, "--max-messages 0: want a number above 0"},
		{[]string{"consume", "t", "--partition", "-1"}, "--partition -1"},
		{[]string{"consume", "t", "--group", "g", "--partition", "0"}, "--group cannot be combined with --partition"},
		{[]string{"groups"}, "missing subcommand"},
		{[]string{"groups", "describe"}, "missing GROUP"},
		{[]string{"groups", "reset-offsets", "g", "--to-earliest"}, "--topic is required"},
		{[]string{"groups", "reset-offsets", "g", "--topic", "t"}, "exactly one of --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime"},
		{[]string{"groups", "reset-offsets", "g", "--topic", "t", "--to-latest", "--to-offset", "3"}, "exactly one of"},
		{[]string{"dump"}, "missing FILE"},
		{[]string{"dump", "x.log", "--print-data=maybe"}, `invalid boolean value "maybe" for --print-data`},
	} {
		if tc.want == "" {
			continue
		}
		args := tc.args
		if len(args) > 0 {
			args = append(slices.Clone(args), "--dir", dir)
		}
		r := strataWith(t.Context(), t, strings.NewReader(""), nil, args...)
		checkFailure(t, r, exitUsage, tc.want, tc.args)
		if r.stdout != "" {
			t.Errorf("%q: printed %q on stdout", tc.args, r.stdout)
		}
	}
	ok(t, dir, "", "topics", "create", "x")
	fails(t, dir, 1, "reserved for internal topics", "topics", "create", "__internal")
}

// TestHelp: --help on every command and subcommand prints its usage on stdout and
// exits 0.
func TestHelp(t *testing.T) {
	var commands [][]string
	for _, c := range topLevelCommands {
		commands = append(commands, []string{c.name})
	}
	for _, g := range groupCommands {
		commands = append(commands, []string{g.name})
		for _, c := range g.subcommands {
			commands = append(commands, []string{g.name, c.name})
		}
	}
	commands = append(commands, nil)
	for _, command := range commands {
		for _, help := range []string{"--help", "-h"} {
			r := strataWith(t.Context(), t, strings.NewReader(""), nil, append(slices.Clone(command), help)...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%q %s: exit %d, stderr %q", command, help, r.code, r.stderr)
			}
			if want := "strata " + strings.Join(command, " "); !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "Usage") {
				t.Fatalf("%q %s: %q does not show the usage of %q", command, help, r.stdout, want)
			}
			if len(command) == 2 || (len(command) == 1 && !slices.ContainsFunc(groupCommands, func(g groupCommand) bool { return g.name == command[0] })) {
				if !strings.Contains(r.stdout, "--dir DIR") {
					t.Fatalf("%q --help does not mention --dir:\n%s", command, r.stdout)
				}
			}
		}
	}
	// Help after arguments, as --help anywhere among them.
	r := strataWith(t.Context(), t, strings.NewReader(""), nil, "topics", "create", "orders", "--partitions", "3", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--partitions N") || !strings.Contains(r.stdout, "retention.ms=N") {
		t.Fatalf("topics create --help: %d %q", r.code, r.stdout)
	}
}

// TestConsumeGroupHelp: consume --help says that one consume --group runs at a
// time.
func TestConsumeGroupHelp(t *testing.T) {
	out := ok(t, t.TempDir(), "", "consume", "--help")
	for _, want := range []string{"--group G", "only one consume --group runs at a\ntime", "--from-beginning and --from-time apply\nonly to the partitions where the group has none"} {
		if !strings.Contains(out, want) {
			t.Errorf("consume --help does not say %q:\n%s", want, out)
		}
	}
}

// TestParseInterspersed: flags before, between and after positional arguments;
// "--" ends the flags; a value may start with "-".
func TestParseInterspersed(t *testing.T) {
	e := &cli{ctx: context.Background(), getenv: func(string) string { return "" }}
	for _, tc := range []struct {
		args       []string
		positional []string
		sep        string
		n          int
		verbose    bool
	}{
		{[]string{"a", "--n", "3", "b"}, []string{"a", "b"}, "", 3, false},
		{[]string{"--n=4", "a", "-verbose"}, []string{"a"}, "", 4, true},
		{[]string{"--sep", "--", "a"}, []string{"a"}, "--", 0, false},
		{[]string{"--sep", "-x", "--n", "-2"}, nil, "-x", -2, false},
		{[]string{"a", "--", "--n", "5", "-"}, []string{"a", "--n", "5", "-"}, "", 0, false},
		{[]string{"--verbose=false", "-", "b"}, []string{"-", "b"}, "", 0, false},
	} {
		c := newCommandFlags(e, "test", "", "")
		sep := c.String("sep", "", "")
		n := c.Int("n", 0, "")
		verbose := c.Bool("verbose", false, "")
		positional, err := c.parse(tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !slices.Equal(positional, tc.positional) || *sep != tc.sep || *n != tc.n || *verbose != tc.verbose {
			t.Errorf("%q: positional %q sep %q n %d verbose %t", tc.args, positional, *sep, *n, *verbose)
		}
	}
	c := newCommandFlags(e, "test", "", "")
	c.Int("n", 0, "")
	if _, err := c.parse([]string{"a", "--n"}); err == nil || !strings.Contains(err.Error(), "flag needs an argument: --n") {
		t.Fatalf("missing value: %v", err)
	}
}

func TestCleanMessage(t *testing.T) {
	for in, want := range map[string]string{
		`strata/log: create topic "x": strata/log: topic already exists`:     `create topic "x": topic already exists`,
		"strata/log: open /data/strata: lock: boom":                          "open /data/strata: lock: boom",
		"strata: corrupt data in f at position 3: strata/segment: bad\nmore": "corrupt data in f at position 3: bad; more",
		"read (strata/log: x)": "read (x)",
	} {
		if got := cleanMessage(in); got != want {
			t.Errorf("cleanMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
