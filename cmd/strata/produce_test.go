package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestProducePrintOffsets: one partition:offset line per input line, in input
// order; within a partition the offsets follow the input.
func TestProducePrintOffsets(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "3")
	var input strings.Builder
	const n = 500
	for i := range n {
		fmt.Fprintf(&input, "k%d=v%d\n", i%7, i)
	}
	printed := lines(ok(t, dir, input.String(), "produce", "t", "--key-separator", "=", "--print-offsets"))
	if len(printed) != n {
		t.Fatalf("printed %d lines for %d input lines", len(printed), n)
	}
	next := map[string]int64{}
	for i, line := range printed {
		p, offset, found := strings.Cut(line, ":")
		o, err := strconv.ParseInt(offset, 10, 64)
		if !found || err != nil {
			t.Fatalf("line %d: %q is not partition:offset", i, line)
		}
		if o != next[p] {
			t.Fatalf("line %d: %s, want offset %d in partition %s", i, line, next[p], p)
		}
		next[p]++
	}
	// Consumed back: every value once.
	got := sortedLines(ok(t, dir, "", "consume", "t", "--from-beginning"))
	if len(got) != n {
		t.Fatalf("consumed %d records, want %d", len(got), n)
	}

	// An explicit partition: offsets follow each other there.
	printed = lines(ok(t, dir, "x\ny\nz\n", "produce", "t", "--partition", "2", "--print-offsets", "--acks", "leader"))
	start := next["2"]
	want := []string{fmt.Sprintf("2:%d", start), fmt.Sprintf("2:%d", start+1), fmt.Sprintf("2:%d", start+2)}
	if !slices.Equal(printed, want) {
		t.Fatalf("--partition 2: %q, want %q", printed, want)
	}
	// acks none: acknowledged at buffering, offset unknown.
	printed = lines(ok(t, dir, "a\nb\n", "produce", "t", "--partition", "1", "--print-offsets", "--acks", "none"))
	if !slices.Equal(printed, []string{"1:-1", "1:-1"}) {
		t.Fatalf("--acks none: %q", printed)
	}
	// Without --print-offsets nothing is printed.
	if got := ok(t, dir, "q\n", "produce", "t"); got != "" {
		t.Fatalf("produce without --print-offsets printed %q", got)
	}
}

// TestProduceLines: line endings, empty lines, a last line without a newline, and
// the key separator splitting at its first occurrence.
func TestProduceLines(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\r\n\nb:c:d\nlast", "produce", "t")
	got := lines(ok(t, dir, "", "consume", "t", "--from-beginning", "--print-key"))
	want := []string{"null\ta", "null\t", "null\tb:c:d", "null\tlast"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	ok(t, dir, "k::v::w\n::empty key\n", "produce", "t", "--key-separator", "::")
	got = lines(ok(t, dir, "", "consume", "t", "--offset", "4", "--partition", "0", "--print-key"))
	want = []string{"k\tv::w", "\tempty key"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestProduceMissingSeparator: a line without the separator stops produce with
// exit 1; the lines before it are stored, the ones after are not read.
func TestProduceMissingSeparator(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	r := strata(t, dir, "k:1\nk:2\nnokey\nk:4\n", "produce", "t", "--key-separator", ":", "--print-offsets")
	checkFailure(t, r, 1, `line 3: no key separator ":"`, nil)
	if r.stdout != "0:0\n0:1\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	if got := lines(ok(t, dir, "", "consume", "t", "--from-beginning")); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("stored %q", got)
	}
}

// TestProduceErrors: records the store refuses, and bad arguments.
func TestProduceErrors(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "2", "--config", "max.message.bytes=200")
	r := strata(t, dir, "short\n"+strings.Repeat("x", 150)+"\n", "produce", "t", "--partition", "0", "--print-offsets")
	checkFailure(t, r, 1, "line 2: produce to t-0: batch of 220 bytes exceeds MaxBatchBytes 200: record too large", nil)
	if r.stdout != "0:0\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	r = strata(t, dir, strings.Repeat("y", 300)+"\n", "produce", "t")
	checkFailure(t, r, 1, "stdin line 1: line longer than the topic's max.message.bytes (200 bytes)", nil)

	fails(t, dir, 1, "topic t has 2 partitions (0 to 1), no partition 2", "produce", "t", "--partition", "2")
	fails(t, dir, 1, `unknown topic "nope"`, "produce", "nope")
	fails(t, dir, 2, "--partition -1: must not be negative", "produce", "t", "--partition", "-1")
	fails(t, dir, 2, `invalid value "2" for flag --acks: want one of all, -1, leader, 1, none, 0, durable`, "produce", "t", "--acks", "2")
	fails(t, dir, 2, `invalid value "lz4" for flag --compression`, "produce", "t", "--compression", "lz4")
	fails(t, dir, 2, "--key-separator: must not be empty", "produce", "t", "--key-separator", "")
	fails(t, dir, 2, "missing TOPIC", "produce")
}

// TestProduceCompression: --compression applies to topics without a codec of their
// own, and is refused for a topic whose own codec differs.
func TestProduceCompression(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "plain")
	ok(t, dir, "", "topics", "create", "zstd", "--config", "compression.type=zstd")
	ok(t, dir, "hello\nworld\n", "produce", "plain", "--compression", "gzip")
	ok(t, dir, "hello\n", "produce", "zstd", "--compression", "zstd")
	fails(t, dir, 1, "--compression gzip: topic zstd has compression.type=zstd of its own", "produce", "zstd", "--compression", "gzip")

	out := ok(t, dir, "", "dump", "plain-0/00000000000000000000.log", "--print-data")
	if !strings.Contains(out, "compresscodec: gzip") || !strings.Contains(out, "payload: world") {
		t.Fatalf("dump of a gzip batch:\n%s", out)
	}
	// The codec was for that run only: the topic still inherits none.
	if d := lines(ok(t, dir, "", "topics", "describe", "plain"))[0]; !strings.Contains(d, "compression.type=none") {
		t.Fatalf("describe: %s", d)
	}
}

// TestProduceInterrupted: a signal while produce waits for stdin stops it with exit
// 130 after what it read is stored.
func TestProduceInterrupted(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdin, writeStdin := io.Pipe()
	defer writeStdin.Close()
	stdout := &notifyWriter{onLine: func(n int) {
		if n == 2 {
			cancel() // both lines are acknowledged; stdin stays open
		}
	}}
	go writeStdin.Write([]byte("one\ntwo\n"))
	r := strataWith(ctx, t, stdin, stdout, "produce", "t", "--print-offsets", "--dir", dir)
	checkFailure(t, r, exitInterrupted, "interrupted: 2 lines produced", nil)
	if got := stdout.buf.String(); got != "0:0\n0:1\n" {
		t.Fatalf("stdout %q", got)
	}
	if got := lines(ok(t, dir, "", "consume", "t", "--from-beginning")); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("stored %q", got)
	}
}

// TestProduceAcksAsKafkaSpellsThem: --acks -1, 1 and 0 are all, leader and none.
func TestProduceAcksAsKafkaSpellsThem(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	for _, tc := range []struct{ acks, want string }{{"-1", "0:0"}, {"1", "0:1"}, {"0", "0:-1"}, {"all", "0:3"}} {
		if got := ok(t, dir, "x\n", "produce", "t", "--acks", tc.acks, "--print-offsets"); got != tc.want+"\n" {
			t.Errorf("--acks %s: %q, want %q", tc.acks, got, tc.want)
		}
	}
}
