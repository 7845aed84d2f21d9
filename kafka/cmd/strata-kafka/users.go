package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratalog/strata/kafka"
)

// usersUsage is the users subcommand's command line.
const usersUsage = `usage: strata-kafka users add    --dir DIR --user USER [--mechanism SCRAM-SHA-512|SCRAM-SHA-256] [--iterations N]  (password on stdin)
       strata-kafka users delete --dir DIR --user USER [--mechanism SCRAM-SHA-512|SCRAM-SHA-256]
       strata-kafka users list   --dir DIR`

// maxPasswordBytes bounds the password line read from stdin.
const maxPasswordBytes = 64 << 10

// runUsers is `strata-kafka users add|delete|list`: it manages the SCRAM users
// of the store in DIR, kept in DIR/kafka-scram-users.json (kafka.Credentials),
// and returns the exit code (0, 1 on failure, 2 for a wrong command line).
//
// add reads the password from the first line of stdin (never from the command
// line, where other users of the machine could read it) and stores it salted,
// for --mechanism, or for both SCRAM mechanisms if it is not given; a user that
// already has a credential for the mechanism gets the new one. delete removes
// the user's credential for --mechanism, or all of the user's. list prints one
// line a credential: user, mechanism, iterations; never the keys.
//
// It works whether or not the server is running on DIR: a change goes through
// the file's lock and is written crash-atomically, and a running server sees it
// at the next authentication; the server's own changes (AlterUserScramCredentials)
// take the same lock, so neither loses the other's.
func runUsers(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usersUsage)
		return 2
	}
	action := args[0]
	flags := flag.NewFlagSet("strata-kafka users "+action, flag.ContinueOnError)
	flags.SetOutput(stderr)
	dir := flags.String("dir", "", "the store's data directory (required)")
	user := flags.String("user", "", "the user (add, delete)")
	mechanism := flags.String("mechanism", "", "SCRAM-SHA-512 or SCRAM-SHA-256 (default: both)")
	iterations := flags.Int("iterations", kafka.DefaultSCRAMIterations, "the PBKDF2 iterations of a new credential, 4096 to 16384 (add)")
	if err := flags.Parse(args[1:]); err != nil {
		return 2
	}
	mechanisms := []string{kafka.SCRAMSHA512, kafka.SCRAMSHA256}
	if *mechanism != "" {
		mechanisms = []string{*mechanism}
	}
	switch {
	case action != "add" && action != "delete" && action != "list",
		*dir == "" || flags.NArg() > 0,
		action != "list" && *user == "",
		action == "list" && *user != "",
		*mechanism != "" && *mechanism != kafka.SCRAMSHA512 && *mechanism != kafka.SCRAMSHA256:
		fmt.Fprintln(stderr, usersUsage)
		return 2
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "strata-kafka users:", err)
		return 1
	}
	credentials, err := kafka.OpenCredentials(filepath.Join(*dir, kafka.CredentialsFile))
	if err != nil {
		fmt.Fprintln(stderr, "strata-kafka users:", err)
		return 1
	}
	switch action {
	case "add":
		err = addUser(credentials, *user, mechanisms, *iterations, stdin, stdout)
	case "delete":
		err = deleteUser(credentials, *user, mechanisms, *mechanism != "", stdout)
	case "list":
		err = listUsers(credentials, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "strata-kafka users:", err)
		return 1
	}
	return 0
}

// addUser stores the password read from stdin as user's credential for each
// mechanism.
func addUser(credentials *kafka.Credentials, user string, mechanisms []string, iterations int, stdin io.Reader, stdout io.Writer) error {
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	for _, mechanism := range mechanisms {
		if err := credentials.SetPassword(mechanism, user, password, iterations); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\t%s\titerations=%d\tset\n", user, mechanism, iterations)
	}
	return nil
}

// readPassword returns the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordBytes+1)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	if len(line) > maxPasswordBytes {
		return "", fmt.Errorf("the password line on stdin is longer than %d bytes", maxPasswordBytes)
	}
	password := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if password == "" {
		return "", errors.New("no password on stdin (its first line)")
	}
	return password, nil
}

// deleteUser removes user's credential for each mechanism: one named
// (explicit) must exist; of both (none named), at least one.
func deleteUser(credentials *kafka.Credentials, user string, mechanisms []string, explicit bool, stdout io.Writer) error {
	deleted := 0
	for _, mechanism := range mechanisms {
		err := credentials.Delete(mechanism, user)
		if errors.Is(err, kafka.ErrCredentialNotFound) && !explicit {
			continue
		}
		if err != nil {
			return err
		}
		deleted++
		fmt.Fprintf(stdout, "%s\t%s\tdeleted\n", user, mechanism)
	}
	if deleted == 0 {
		return fmt.Errorf("%w: user %q has no SCRAM credential", kafka.ErrCredentialNotFound, user)
	}
	return nil
}

// listUsers prints every credential: user, mechanism, iterations.
func listUsers(credentials *kafka.Credentials, stdout io.Writer) error {
	infos, err := credentials.Describe()
	if err != nil {
		return err
	}
	for _, info := range infos {
		fmt.Fprintf(stdout, "%s\t%s\titerations=%d\n", info.User, info.Mechanism, info.Iterations)
	}
	return nil
}
