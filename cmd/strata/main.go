package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/stratalog/strata/log"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1   // the command failed: a store error, corrupt data, ...
	exitUsage       = 2   // the command line is wrong
	exitInterrupted = 130 // produce stopped by SIGINT/SIGTERM (128 + SIGINT)
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is the whole CLI: it runs the command in args (without the program name) and
// returns the exit code. SIGINT and SIGTERM cancel the command's context: consume
// --follow then stops cleanly, produce flushes what it has read.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdin, stdout, stderr, env)
}

// runContext is run with the caller's context, for tests that stop a command.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	e := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: env}
	err := e.dispatch(args)
	return e.exitCode(err)
}

// cli is what every command works with: its context and standard streams.
type cli struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// beforePoll, if set, is called with the store before each poll of consume:
	// tests produce through it while the command holds the store.
	beforePoll func(*log.Store)
	// dir is the --dir given before the command; the command's own --dir, given
	// after it, overrides it.
	dir string
}

// command is one command, or one subcommand of a group.
type command struct {
	name    string // "produce", "topics create"
	summary string // one line for the list of commands
	run     func(e *cli, name string, args []string) error
}

// groupCommand is a command with subcommands ("topics", "groups").
type groupCommand struct {
	name        string
	summary     string
	subcommands []command
}

var topLevelCommands = []command{
	{name: "init", summary: "create a store of several brokers (disks)", run: runInit},
	{name: "produce", summary: "write stdin lines as records to a topic", run: runProduce},
	{name: "consume", summary: "print a topic's records, one per line", run: runConsume},
	{name: "dump", summary: "print the batches of segment files, read-only (like kafka-dump-log)", run: runDump},
	{name: "verify", summary: "check every batch and file of the store, read-only (a scrub)", run: runVerify},
	{name: "repair", summary: "repair a damaged partition, keeping a copy of what it removes", run: runRepair},
}

var groupCommands = []groupCommand{
	{name: "topics", summary: "create, list, describe, alter and delete topics", subcommands: []command{
		{name: "create", summary: "create a topic", run: runTopicsCreate},
		{name: "list", summary: "list the topics", run: runTopicsList},
		{name: "describe", summary: "show partitions, offsets, sizes and config", run: runTopicsDescribe},
		{name: "alter", summary: "change a topic's configs, add partitions", run: runTopicsAlter},
		{name: "delete-records", summary: "delete a topic's records below an offset", run: runTopicsDeleteRecords},
		{name: "delete", summary: "delete a topic and its records", run: runTopicsDelete},
	}},
	{name: "brokers", summary: "list and add the store's brokers", subcommands: []command{
		{name: "list", summary: "list the brokers: id, directory, online, leaderships", run: runBrokersList},
		{name: "add", summary: "add a broker (a directory, a disk) to a store that is not open", run: runBrokersAdd},
	}},
	{name: "partitions", summary: "move partitions' replicas", subcommands: []command{
		{name: "reassign", summary: "move a partition's replicas to other brokers", run: runPartitionsReassign},
	}},
	{name: "leaders", summary: "elect partition leaders", subcommands: []command{
		{name: "elect", summary: "move leaderships back to the preferred replicas", run: runLeadersElect},
	}},
	{name: "groups", summary: "list, describe, reset and delete consumer groups", subcommands: []command{
		{name: "list", summary: "list the consumer groups", run: runGroupsList},
		{name: "describe", summary: "show a group's members, committed offsets and lag", run: runGroupsDescribe},
		{name: "reset-offsets", summary: "move a group's committed offsets", run: runGroupsResetOffsets},
		{name: "delete", summary: "delete a group and its committed offsets", run: runGroupsDelete},
	}},
	{name: "transactions", summary: "list, describe and abort transactions, find hanging ones", subcommands: []command{
		{name: "list", summary: "list the transactional ids and their states", run: runTransactionsList},
		{name: "describe", summary: "show a transactional id's producer, state and partitions", run: runTransactionsDescribe},
		{name: "describe-producers", summary: "show a partition's producers and open transactions", run: runTransactionsDescribeProducers},
		{name: "abort", summary: "abort a hanging transaction in a partition", run: runTransactionsAbort},
		{name: "find-hanging", summary: "find open transactions no coordinator will end", run: runTransactionsFindHanging},
	}},
}

const topUsage = `strata works on a strata data directory: topics of partitioned commit logs.

Usage:
  strata [--dir DIR] COMMAND [ARGS] [--dir DIR]
  strata COMMAND --help, strata help COMMAND
  strata --version

Commands:
  init --brokers N [--broker-dir ID=PATH]...
  topics create NAME [--partitions N] [--replication-factor R] [--config key=value]...
  topics list
  topics describe [NAME] [--under-replicated-partitions]
  topics alter NAME [--config key=value]... [--delete-config key]... [--partitions N]
  topics delete-records NAME --offset N [--partition P]
  topics delete NAME
  brokers list
  brokers add [--broker-dir PATH]
  partitions reassign TOPIC --partition P --replicas B1,B2,...
  leaders elect --preferred [--topic T]
  produce TOPIC [--partition P] [--key-separator SEP] [--acks all|-1|1|0]
                [--compression none|gzip|snappy|zstd] [--print-offsets]
                [--property parse.headers=true|parse.key=true|...]...
  consume TOPIC [--from-beginning | --offset N --partition P | --from-time RFC3339]
                [--group G] [--max-messages N] [--follow] [--timeout-ms N]
                [--print-key] [--print-offset] [--print-timestamp] [--print-headers]
                [--property print.headers=true|key.separator=SEP|...]...
  groups list
  groups describe GROUP
  groups delete GROUP
  groups reset-offsets GROUP --topic T (--to-earliest|--to-latest|--to-current|
                       --to-offset N|--shift-by N|--to-datetime T) [--execute|--dry-run]
  transactions list
  transactions describe --transactional-id ID
  transactions describe-producers --topic T --partition P
  transactions abort --topic T --partition P (--start-offset O |
                     --producer-id ID --producer-epoch E --coordinator-epoch C)
  transactions find-hanging [--topic T [--partition P]] [--max-transaction-timeout MIN]
  dump FILE... [--print-data] [--offsets-decoder] [--verify-index]
  verify
  repair TOPIC --partition P [--keep-later] [--keep-dir DIR]

Every command takes --dir DIR, before or after it (the one after wins): the data
directory (default $STRATA_DIR, else ./strata-data). Only one process may have a store open: while an application
holds the directory, commands that open it fail at once; dump reads segment files
without opening the store and works at any time. So one command at a time works on
a store: consume --group is the only member of its group while it runs.

Exit status: 0 on success, 1 when the command fails, 2 for a usage error.
`

func (e *cli) dispatch(args []string) error {
	args, err := e.hoistGlobalFlags(args)
	if err != nil || args == nil {
		return err
	}
	if len(args) == 0 {
		return usageErrorf("strata", "missing command")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, topUsage)
		return nil
	case "help":
		if len(rest) == 0 {
			fmt.Fprint(e.stdout, topUsage)
			return nil
		}
		// strata help COMMAND [SUBCOMMAND]: the command's --help (flags after the
		// command's words are of no use to help).
		words := len(rest)
		if i := slices.IndexFunc(rest, func(arg string) bool { return strings.HasPrefix(arg, "-") }); i >= 0 {
			words = i
		}
		return e.dispatch(append(slices.Clone(rest[:words]), "--help"))
	}
	for _, c := range topLevelCommands {
		if c.name == name {
			return c.run(e, c.name, rest)
		}
	}
	for _, g := range groupCommands {
		if g.name == name {
			return e.dispatchGroup(g, rest)
		}
	}
	if strings.HasPrefix(name, "-") {
		return usageErrorf("strata", "a command's flags go after it: strata COMMAND [ARGS] %s", name)
	}
	return usageErrorf("strata", "unknown command %q", name)
}

// hoistGlobalFlags takes the global flags given before the command out of args:
// --version prints the version (nil args: nothing more to do), and --dir DIR sets
// e.dir, which every command's flags start from. --help stays first for dispatch.
func (e *cli) hoistGlobalFlags(args []string) ([]string, error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flag, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(args[0], "-"), "-"), "=")
		switch {
		case flag == "version" && !hasValue:
			fmt.Fprintln(e.stdout, versionLine())
			return nil, nil
		case flag == "dir" && hasValue:
			e.dir, args = value, args[1:]
		case flag == "dir" && len(args) > 1:
			e.dir, args = args[1], args[2:]
		case flag == "dir":
			return nil, usageErrorf("strata", "flag needs an argument: --dir")
		default:
			return args, nil // --help, or a command's flag before it: dispatch says
		}
	}
	if len(args) == 0 {
		return nil, usageErrorf("strata", "missing command")
	}
	return args, nil
}

// versionLine is what --version prints: the module version the binary was built
// from ("(devel)" for a build from a checkout), its VCS revision if recorded, and
// the Go version.
func versionLine() string {
	version, revision := "(unknown)", ""
	info, ok := debug.ReadBuildInfo()
	if ok {
		version = info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	line := "strata " + version
	if revision != "" {
		line += " (" + revision + ")"
	}
	return line + " " + runtime.Version()
}

func (e *cli) dispatchGroup(g groupCommand, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(e.stdout, g.usage())
			return nil
		}
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErrorf("strata "+g.name, "missing subcommand (%s)", g.subcommandNames())
	}
	for _, c := range g.subcommands {
		if c.name == args[0] {
			return c.run(e, g.name+" "+c.name, args[1:])
		}
	}
	return usageErrorf("strata "+g.name, "unknown subcommand %q (%s)", args[0], g.subcommandNames())
}

func (g groupCommand) subcommandNames() string {
	names := make([]string, len(g.subcommands))
	for i, c := range g.subcommands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func (g groupCommand) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "strata %s: %s\n\nUsage:\n", g.name, g.summary)
	width := 14
	for _, c := range g.subcommands {
		width = max(width, len(c.name))
	}
	for _, c := range g.subcommands {
		fmt.Fprintf(&b, "  strata %s %-*s %s\n", g.name, width, c.name, c.summary)
	}
	fmt.Fprintf(&b, "\nRun 'strata %s SUBCOMMAND --help' for a subcommand's arguments and flags.\n", g.name)
	return b.String()
}

// usageError is a wrong command line: exit status 2.
type usageError struct {
	command string // "strata topics create"
	message string
}

func (u *usageError) Error() string {
	return fmt.Sprintf("%s: %s (see '%s --help')", strings.TrimPrefix(u.command, "strata "), u.message, u.command)
}

func usageErrorf(command, format string, args ...any) error {
	if !strings.HasPrefix(command, "strata") {
		command = "strata " + command
	}
	return &usageError{command: command, message: fmt.Sprintf(format, args...)}
}

// interruptedError is a produce stopped by a signal: exit status 130.
type interruptedError struct{ message string }

func (i *interruptedError) Error() string { return i.message }

// exitCode prints err as one line on stderr and returns the exit status for it.
func (e *cli) exitCode(err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	var usage *usageError
	if errors.As(err, &usage) {
		if usage.command == "strata" {
			fmt.Fprintf(e.stderr, "strata: %s (see 'strata --help')\n", usage.message)
		} else {
			fmt.Fprintf(e.stderr, "strata: %s\n", usage.Error())
		}
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "strata: %s\n", cleanMessage(err.Error()))
	var interrupted *interruptedError
	if errors.As(err, &interrupted) {
		return exitInterrupted
	}
	return exitFailure
}

// packagePrefix matches the "strata/log: " prefixes that library errors carry at
// each level of wrapping; on the command line they are noise.
// Only a prefix at the start, after ": " or after "(" is one (a directory named
// strata is not).
var packagePrefix = regexp.MustCompile(`(^|: |\()strata(/[a-z]+)?: `)

// cleanMessage turns an error message into one line without package prefixes;
// joined errors are separated by "; ".
func cleanMessage(s string) string {
	for {
		t := packagePrefix.ReplaceAllString(s, "$1")
		if t == s {
			break
		}
		s = t
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
