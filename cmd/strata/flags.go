package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// defaultDir is the data directory when neither --dir nor $STRATA_DIR names one.
const defaultDir = "./strata-data"

// commandFlags is the flag set of one command, with its help text. Every command
// has --dir.
type commandFlags struct {
	*flag.FlagSet
	e        *cli
	command  string // "topics create"
	synopsis string // "NAME [--partitions N] [--config key=value]..."
	about    string // what the command does, for --help
	dir      string
}

// newCommandFlags returns the flag set of command, with --dir already defined.
func newCommandFlags(e *cli, command, synopsis, about string) *commandFlags {
	fs := flag.NewFlagSet("strata "+command, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, help by printHelp
	c := &commandFlags{FlagSet: fs, e: e, command: command, synopsis: synopsis, about: about}
	fs.StringVar(&c.dir, "dir", "", "the store's data directory `DIR` (default $STRATA_DIR, else "+defaultDir+")")
	return c
}

// errHelpShown is returned by parse after printing --help: the command does nothing
// and exits 0.
var errHelpShown = errors.New("help shown")

// parse parses args, which may mix flags and positional arguments in any order
// ("topics create orders --partitions 3"; Go's flag package alone stops at the first
// positional argument). "--" ends the flags: everything after it is positional.
// It returns the positional arguments, errHelpShown after printing --help, or a
// usage error.
func (c *commandFlags) parse(args []string) ([]string, error) {
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			positional = append(positional, arg)
			continue
		}
		chunk := []string{arg}
		name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
		if !strings.Contains(name, "=") {
			if f := c.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
				// The flag takes the next argument as its value, even one that starts
				// with "-" (--offset -1, --key-separator --).
				chunk = append(chunk, args[i+1])
				i++
			}
		}
		if err := c.Parse(chunk); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.printHelp(c.e.stdout)
				return nil, errHelpShown
			}
			return nil, c.usageError("%s", dashDash(err.Error()))
		}
	}
	if !c.isSet("dir") {
		c.dir = c.e.dir // the --dir before the command, if any
	}
	return positional, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// dashDash rewrites the flag package's "-name" as "--name", the spelling of this
// CLI's help.
func dashDash(msg string) string {
	return singleDash.ReplaceAllString(msg, " --$1")
}

var singleDash = regexp.MustCompile(` -([a-zA-Z])`)

// usageError returns a usage error of this command.
func (c *commandFlags) usageError(format string, args ...any) error {
	return usageErrorf(c.command, format, args...)
}

// isSet reports whether the named flag was given on the command line.
func (c *commandFlags) isSet(name string) bool {
	set := false
	c.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// storeDir returns the data directory: --dir, else $STRATA_DIR, else defaultDir.
func (c *commandFlags) storeDir() string {
	if c.dir != "" {
		return c.dir
	}
	if d := c.e.getenv("STRATA_DIR"); d != "" {
		return d
	}
	return defaultDir
}

// printHelp writes the command's --help text.
func (c *commandFlags) printHelp(w io.Writer) {
	synopsis := c.synopsis
	if synopsis != "" {
		synopsis += " "
	}
	fmt.Fprintf(w, "Usage: strata %s %s[--dir DIR]\n\n%s\n\nFlags:\n", c.command, synopsis, strings.TrimSpace(c.about))
	var flags []*flag.Flag
	c.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		arg, usage := flag.UnquoteUsage(f)
		if isBoolFlag(f) {
			arg = ""
		}
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n      %s", line, usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	}
}

// stringList is a flag that may be repeated: --config a=1 --config b=2.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// choiceFlag is a string flag whose value must be one of choices.
type choiceFlag struct {
	value   string
	choices []string
}

func newChoice(def string, choices ...string) *choiceFlag {
	return &choiceFlag{value: def, choices: choices}
}

func (c *choiceFlag) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choiceFlag) Set(v string) error {
	for _, choice := range c.choices {
		if v == choice {
			c.value = v
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(c.choices, ", "))
}

// needArgs checks the number of positional arguments: between min and max (max < 0:
// no limit); names are their names for the message, in order.
func (c *commandFlags) needArgs(positional []string, min, max int, names ...string) error {
	if len(positional) < min {
		return c.usageError("missing %s", strings.Join(names[len(positional):min], " and "))
	}
	if max >= 0 && len(positional) > max {
		return c.usageError("unexpected argument %q", positional[max])
	}
	return nil
}
