package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// readUsers reads a --sasl-users file: one "user:password" a line (the user ends
// at the first colon; the password is the rest of the line, spaces included);
// blank lines and lines starting with # are skipped.
func readUsers(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users, err := parseUsers(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return users, nil
}

// parseUsers parses the lines of a --sasl-users file.
func parseUsers(r io.Reader) (map[string]string, error) {
	users := map[string]string{}
	scanner := bufio.NewScanner(r)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSuffix(scanner.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		user, password, found := strings.Cut(text, ":")
		_, again := users[user]
		switch {
		case !found || user == "" || password == "":
			return nil, fmt.Errorf("line %d: want user:password", line)
		case again:
			return nil, fmt.Errorf("line %d: user %q again", line, user)
		}
		users[user] = password
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("no users")
	}
	return users, nil
}
