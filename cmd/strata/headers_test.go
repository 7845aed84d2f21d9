package main

import (
	"testing"
)

// TestProduceAndConsumeHeaders: produce parses headers with Kafka's line reader
// properties, consume prints them with --print-headers or Kafka's formatter
// properties.
func TestProduceAndConsumeHeaders(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "trace:abc,lang:en\tk1\tv1\n\tk2\tv2\nempty:NULL\tNULL\tNULL\n", "produce", "t",
		"--property", "parse.headers=true", "--property", "parse.key=true", "--property", "null.marker=NULL")
	if got := ok(t, dir, "", "consume", "t", "--from-beginning", "--print-headers", "--print-key"); got !=
		"trace:abc,lang:en\tk1\tv1\nNO_HEADERS\tk2\tv2\nempty:null\tnull\tnull\n" {
		t.Fatalf("--print-headers --print-key: %q", got)
	}
	got := ok(t, dir, "", "consume", "t", "--from-beginning", "--property", "print.headers=true", "--property", "print.key=true",
		"--property", "key.separator= | ", "--property", `line.separator=\n--\n`, "--property", "headers.separator=;",
		"--property", "null.literal=<nil>", "--property", "print.partition=true")
	if want := "0:0 | trace:abc;lang:en | k1 | v1\n--\n0:1 | NO_HEADERS | k2 | v2\n--\n0:2 | empty:<nil> | <nil> | <nil>\n--\n"; got != want {
		t.Fatalf("--property formatting:\n got %q\nwant %q", got, want)
	}
	if got := ok(t, dir, "", "consume", "t", "--from-beginning", "--property", "print.value=false", "--print-key"); got != "k1\nk2\nnull\n" {
		t.Fatalf("print.value=false: %q", got)
	}

	// Other separators, and --key-separator with parse.headers.
	ok(t, dir, "a=1|b=2#key:value\n", "produce", "t", "--key-separator", ":", "--property", "parse.headers=true",
		"--property", "headers.delimiter=#", "--property", "headers.separator=|", "--property", "headers.key.separator==")
	if got := ok(t, dir, "", "consume", "t", "--offset", "3", "--partition", "0", "--print-headers", "--print-key"); got != "a:1,b:2\tkey\tvalue\n" {
		t.Fatalf("custom header separators: %q", got)
	}

	r := strata(t, dir, "h1\tv\n", "produce", "t", "--property", "parse.headers=true")
	checkFailure(t, r, 1, `line 1: header "h1" has no key separator ":"`, []string{"produce"})
	r = strata(t, dir, "no delimiter\n", "produce", "t", "--property", "parse.headers=true")
	checkFailure(t, r, 1, `line 1: no headers delimiter "\t"`, []string{"produce"})
	fails(t, dir, 2, "; --property parse.headers=yes: want true or false", "produce", "t",
		"--property", "parse.headers=yes", "--property", "bogus=1")
	fails(t, dir, 2, "--property print.nothing: unknown", "consume", "t", "--property", "print.nothing=true")
	fails(t, dir, 2, "not both", "produce", "t", "--key-separator", ":", "--property", "key.separator=:")
}
