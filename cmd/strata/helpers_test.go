package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// topicIDField matches the TopicId field of topics describe: a topic ID in Kafka's
// text form.
var topicIDField = regexp.MustCompile(`\tTopicId: [A-Za-z0-9_-]{22}\t`)

// maskTopicIDs replaces every topic ID in topics describe's output by "ID", after
// checking that the topic lines have one: tests compare the rest.
func maskTopicIDs(t testing.TB, out []string) []string {
	t.Helper()
	masked := slices.Clone(out)
	for i, line := range masked {
		if strings.HasPrefix(line, "Topic: ") {
			if !topicIDField.MatchString(line) {
				t.Fatalf("topic line without a topic ID: %q", line)
			}
			masked[i] = topicIDField.ReplaceAllString(line, "\tTopicId: ID\t")
		}
	}
	return masked
}

// result is what one run of the CLI produced.
type result struct {
	code   int
	stdout string
	stderr string
}

// strata runs the CLI in-process against the store in dir (given as a trailing
// --dir, which also exercises flags after positional arguments), with stdin.
func strata(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	return strataWith(t.Context(), t, strings.NewReader(stdin), nil, append(args, "--dir", dir)...)
}

// strataWith runs the CLI with the given context, stdin and stdout (nil: a buffer)
// and no --dir added.
func strataWith(ctx context.Context, t *testing.T, stdin io.Reader, stdout io.Writer, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	if stdout == nil {
		stdout = &out
	}
	code := runContext(ctx, args, stdin, stdout, &errOut, func(string) string { return "" })
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ok runs the CLI and fails the test unless it exits 0 with nothing on stderr.
func ok(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	r := strata(t, dir, stdin, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("strata %s: exit %d, stderr %q, stdout %q", strings.Join(args, " "), r.code, r.stderr, r.stdout)
	}
	return r.stdout
}

// fails runs the CLI and checks that it exits with code, printing one line on
// stderr that starts with "strata: " and contains want.
func fails(t *testing.T, dir string, code int, want string, args ...string) result {
	t.Helper()
	r := strata(t, dir, "", args...)
	checkFailure(t, r, code, want, args)
	return r
}

func checkFailure(t *testing.T, r result, code int, want string, args []string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("strata %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), r.code, code, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "strata: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("strata %s: stderr %q: want one line starting with \"strata: \"", strings.Join(args, " "), r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("strata %s: stderr %q: want it to contain %q", strings.Join(args, " "), r.stderr, want)
	}
}

// lines splits output into lines, without the final newline.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// sortedLines is lines, sorted.
func sortedLines(s string) []string {
	l := lines(s)
	slices.Sort(l)
	return l
}

// notifyWriter is a stdout that calls onLine with the number of complete lines
// written so far, after each write: tests wait on output instead of sleeping.
type notifyWriter struct {
	buf    bytes.Buffer
	onLine func(lines int)
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	w.onLine(strings.Count(w.buf.String(), "\n"))
	return n, err
}
