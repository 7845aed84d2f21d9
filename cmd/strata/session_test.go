package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
)

// TestSession is the seeds' deployment session: create a topic, list and describe
// it, produce keyed lines, consume them back in several ways, delete the topic.
func TestSession(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // created by topics create

	if got := ok(t, dir, "", "topics", "create", "orders", "--partitions", "3"); got != "Created topic orders.\n" {
		t.Fatalf("create: %q", got)
	}
	if got := ok(t, dir, "", "topics", "list"); got != "orders\n" {
		t.Fatalf("list: %q", got)
	}
	described := lines(ok(t, dir, "", "topics", "describe", "orders"))
	// The topic's ID, as kafka-topics prints it, is the same at every Open.
	if again := lines(ok(t, dir, "", "topics", "describe", "orders")); again[0] != described[0] {
		t.Fatalf("describe again: %q, first %q: the topic ID changed", again[0], described[0])
	}
	describe := maskTopicIDs(t, described)
	if len(describe) != 4 || !strings.HasPrefix(describe[0], "Topic: orders\tTopicId: ID\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: cleanup.policy=delete,") {
		t.Fatalf("describe: %q", describe)
	}
	for i, line := range describe[1:] {
		want := fmt.Sprintf("\tTopic: orders\tPartition: %d\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLeaderEpoch: 0\tStartOffset: 0\tEndOffset: 0\t", i)
		if !strings.HasPrefix(line, want) {
			t.Fatalf("describe partition %d: %q, want prefix %q", i, line, want)
		}
	}

	input := []string{"alice:book", "bob:pen", "carol:ink", "alice:lamp", "dave:cup", "bob:mug"}
	offsets := lines(ok(t, dir, strings.Join(input, "\n")+"\n", "produce", "orders", "--key-separator", ":", "--print-offsets"))
	if len(offsets) != len(input) {
		t.Fatalf("produce printed %q for %d lines", offsets, len(input))
	}
	// Each line went to its key's partition, at the next offset of that partition.
	var want []string // consume's output with --print-offset --print-key
	next := map[int]int{}
	for i, line := range input {
		key, value, _ := strings.Cut(line, ":")
		p := log.KeyPartition([]byte(key), 3)
		if wantOffset := fmt.Sprintf("%d:%d", p, next[p]); offsets[i] != wantOffset {
			t.Fatalf("line %d (%s): printed %s, want %s", i+1, line, offsets[i], wantOffset)
		}
		want = append(want, fmt.Sprintf("%d:%d\t%s\t%s", p, next[p], key, value))
		next[p]++
	}
	slices.Sort(want)

	// Everything back, from the beginning.
	if got := sortedLines(ok(t, dir, "", "consume", "orders", "--from-beginning", "--print-offset", "--print-key")); !slices.Equal(got, want) {
		t.Fatalf("consume --from-beginning:\n got %q\nwant %q", got, want)
	}
	// Values only, by default.
	if got := sortedLines(ok(t, dir, "", "consume", "orders", "--from-beginning")); !slices.Equal(got, []string{"book", "cup", "ink", "lamp", "mug", "pen"}) {
		t.Fatalf("consume values: %q", got)
	}
	// Without a start option consume starts at the end and waits for new records:
	// --timeout-ms ends the wait.
	if got := ok(t, dir, "", "consume", "orders", "--timeout-ms", "50"); got != "" {
		t.Fatalf("consume from the end: %q", got)
	}
	// --offset/--partition: alice's partition from offset 1.
	alice := log.KeyPartition([]byte("alice"), 3)
	var fromOne []string
	for _, line := range want {
		if strings.HasPrefix(line, strconv.Itoa(alice)+":") && !strings.HasPrefix(line, strconv.Itoa(alice)+":0\t") {
			fromOne = append(fromOne, line)
		}
	}
	got := lines(ok(t, dir, "", "consume", "orders", "--offset", "1", "--partition", strconv.Itoa(alice), "--print-offset", "--print-key"))
	if !slices.Equal(got, fromOne) {
		t.Fatalf("consume --offset 1 --partition %d: %q, want %q", alice, got, fromOne)
	}
	// --partition alone, from the beginning.
	got = lines(ok(t, dir, "", "consume", "orders", "--partition", strconv.Itoa(alice), "--from-beginning", "--print-key"))
	if len(got) != next[alice] || got[0] != "alice\tbook" {
		t.Fatalf("consume --partition %d --from-beginning: %q", alice, got)
	}
	// --max-messages stops early.
	if got := lines(ok(t, dir, "", "consume", "orders", "--from-beginning", "--max-messages", "2")); len(got) != 2 {
		t.Fatalf("consume --max-messages 2: %q", got)
	}
	// describe shows the end offsets.
	total := 0
	for _, line := range lines(ok(t, dir, "", "topics", "describe"))[1:] {
		_, rest, _ := strings.Cut(line, "EndOffset: ")
		end, _, _ := strings.Cut(rest, "\t")
		n, err := strconv.Atoi(end)
		if err != nil {
			t.Fatalf("describe line %q", line)
		}
		total += n
	}
	if total != len(input) {
		t.Fatalf("describe: end offsets sum to %d, want %d", total, len(input))
	}

	if got := ok(t, dir, "", "topics", "delete", "orders"); got != "Deleted topic orders.\n" {
		t.Fatalf("delete: %q", got)
	}
	if got := ok(t, dir, "", "topics", "list"); got != "" {
		t.Fatalf("list after delete: %q", got)
	}
	fails(t, dir, 1, `unknown topic "orders"`, "consume", "orders", "--from-beginning")
}

// TestConsumeFromTime seeks each partition to the first record at or after a time.
func TestConsumeFromTime(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "events", "--partitions", "2")
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		err := store.Produce(t.Context(), &log.Record{
			Topic: "events", Partition: int32(i % 2), ExplicitPartition: true,
			Value: []byte("e" + strconv.Itoa(i)), Timestamp: base.Add(time.Duration(i) * time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	got := sortedLines(ok(t, dir, "", "consume", "events", "--from-time", "2024-05-01T12:06:00Z", "--print-timestamp", "--print-offset"))
	want := []string{
		"2024-05-01T12:06:00.000Z\t0:3\te6",
		"2024-05-01T12:07:00.000Z\t1:3\te7",
		"2024-05-01T12:08:00.000Z\t0:4\te8",
		"2024-05-01T12:09:00.000Z\t1:4\te9",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("--from-time:\n got %q\nwant %q", got, want)
	}
	// Another zone, between two records: from 12:05:30 UTC on.
	got = sortedLines(ok(t, dir, "", "consume", "events", "--from-time", "2024-05-01T14:05:30+02:00"))
	if !slices.Equal(got, []string{"e6", "e7", "e8", "e9"}) {
		t.Fatalf("--from-time with a zone: %q", got)
	}
	// After the last record: nothing.
	if got := ok(t, dir, "", "consume", "events", "--from-time", "2030-01-01T00:00:00Z"); got != "" {
		t.Fatalf("--from-time after the end: %q", got)
	}
}

// TestConsumeNulls prints null keys and values as "null", and the timestamp,
// partition:offset, key and value in that order.
func TestConsumeNulls(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)
	err = store.Produce(t.Context(),
		&log.Record{Topic: "t", Key: nil, Value: []byte("v"), Timestamp: ts},
		&log.Record{Topic: "t", Key: []byte("k"), Value: nil, Timestamp: ts},
		&log.Record{Topic: "t", Key: []byte{}, Value: []byte{}, Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	got := lines(ok(t, dir, "", "consume", "t", "--from-beginning", "--print-key", "--print-offset", "--print-timestamp"))
	want := []string{
		"2024-01-02T03:04:05.006Z\t0:0\tnull\tv",
		"2024-01-02T03:04:05.006Z\t0:1\tk\tnull",
		"2024-01-02T03:04:05.006Z\t0:2\t\t",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestConsumeOffsetBounds: an offset beyond the end is an error; one below the
// start reads from the start.
func TestConsumeOffsetBounds(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\nb\nc\n", "produce", "t")
	fails(t, dir, 1, "--offset 4 is beyond the end of partition 0 (end offset 3)", "consume", "t", "--offset", "4", "--partition", "0")
	fails(t, dir, 1, "no partition 1", "consume", "t", "--offset", "0", "--partition", "1")
	if got := ok(t, dir, "", "consume", "t", "--offset", "3", "--partition", "0"); got != "" {
		t.Fatalf("--offset at the end: %q", got)
	}

	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteRecords(t.Context(), log.TopicPartition{Topic: "t"}, 2); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ok(t, dir, "", "consume", "t", "--offset", "0", "--partition", "0", "--print-offset"); got != "0:2\tc\n" {
		t.Fatalf("--offset below the start: %q", got)
	}
}

// TestStoreDirectory: --dir, else $STRATA_DIR; commands other than topics create
// refuse a directory that is not a store.
func TestStoreDirectory(t *testing.T) {
	dir := t.TempDir()
	fails(t, filepath.Join(dir, "missing"), 1, "no strata store in", "topics", "list")
	fails(t, dir, 1, "no strata store in", "consume", "x")

	env := func(name string) string {
		if name == "STRATA_DIR" {
			return dir
		}
		return ""
	}
	var out, errOut strings.Builder
	if code := runContext(t.Context(), []string{"topics", "create", "fromenv"}, strings.NewReader(""), &out, &errOut, env); code != 0 {
		t.Fatalf("create with $STRATA_DIR: exit %d, %s", code, errOut.String())
	}
	if got := ok(t, dir, "", "topics", "list"); got != "fromenv\n" {
		t.Fatalf("list: %q", got)
	}
}

// TestTopicConfig creates topics with --config and shows them in describe.
func TestTopicConfig(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "c", "--config", "retention.ms=60000", "--config", "retention.bytes=1000000",
		"--config", "segment.bytes=65536", "--config", "segment.ms=3600000", "--config", "compression.type=zstd",
		"--config", "max.message.bytes=2048", "--config", "sync=periodic", "--config", "sync.interval.ms=250",
		"--config", "sync.records=100", "--config", "cleanup.policy=delete")
	got := maskTopicIDs(t, lines(ok(t, dir, "", "topics", "describe", "c")))[0]
	want := "Topic: c\tTopicId: ID\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: cleanup.policy=delete,compression.type=zstd,max.message.bytes=2048," +
		"min.insync.replicas=1,retention.bytes=1000000,retention.ms=60000,segment.bytes=65536,segment.ms=3600000,sync.interval.ms=250,sync.records=100,sync=periodic," +
		"unclean.leader.election.enable=false\tPartitioner: murmur2"
	if got != want {
		t.Fatalf("describe:\n got %q\nwant %q", got, want)
	}
	ok(t, dir, "", "topics", "create", "d", "--config", "retention.ms=-1", "--config", "sync=none")
	got = lines(ok(t, dir, "", "topics", "describe", "d"))[0]
	if !strings.Contains(got, "retention.ms=-1,") || !strings.Contains(got, ",sync=none,") {
		t.Fatalf("describe: %q", got)
	}
	// The store refuses what one value cannot tell: the message names the key.
	fails(t, dir, 1, "sync (Sync): EveryRecords and Interval apply only to SyncPeriodic", "topics", "create", "e", "--config", "sync.interval.ms=10")
	fails(t, dir, 1, "sync (Sync): SyncPeriodic needs EveryRecords > 0 or Interval > 0", "topics", "create", "e", "--config", "sync=periodic")
	fails(t, dir, 2, `cleanup.policy: "shred": want delete, compact or compact,delete`, "topics", "create", "e", "--config", "cleanup.policy=shred")
	fails(t, dir, 1, `topic "c" already exists`, "topics", "create", "c")
}

func TestParseTopicConfig(t *testing.T) {
	for _, tc := range []struct {
		pairs []string
		want  string // error substring
	}{
		{[]string{"foo=1"}, `foo: "1": unknown config`},
		{[]string{"retention.ms"}, `--config "retention.ms": want key=value`},
		{[]string{"=1"}, "want key=value"},
		{[]string{"retention.ms=abc"}, `retention.ms: "abc": not an integer`},
		{[]string{"retention.ms=0"}, `retention.ms: "0": want a number above 0, or -1`},
		{[]string{"retention.bytes=-2"}, `retention.bytes: "-2": want a number above 0, or -1`},
		{[]string{"segment.bytes=-1"}, `segment.bytes: "-1": want a number above 0`},
		{[]string{"segment.bytes=3000000000"}, `segment.bytes: "3000000000": at most 2147483647`},
		{[]string{"segment.ms=0"}, `segment.ms: "0"`},
		{[]string{"max.message.bytes=3000000000"}, `max.message.bytes: "3000000000": at most`},
		{[]string{"compression.type=lz4"}, "lz4 is not supported"},
		{[]string{"compression.type=brotli"}, `compression.type: "brotli": want none, gzip, snappy or zstd`},
		{[]string{"sync=always"}, `sync: "always": want every-append, periodic or none`},
		{[]string{"sync.records=-1"}, `sync.records: "-1": must not be negative`},
		{[]string{"sync=none", "sync=none"}, "config sync: given twice"},
		{[]string{"cleanup.policy="}, `cleanup.policy: "": want delete`},
		// Every problem at once.
		{[]string{"retention.ms=0", "nope=1", "sync=always", "x"}, `--config "x": want key=value`},
		{[]string{"retention.ms=0", "nope=1", "sync=always"}, `invalid config: nope: "1": unknown config (known: cleanup.policy, `},
		{[]string{"retention.ms=0", "nope=1", "sync=always"}, `; retention.ms: "0": want a number above 0, or -1 for no limit; sync: "always": want`},
	} {
		_, err := parseTopicConfig(tc.pairs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.pairs, err, tc.want)
		}
	}
	c, err := parseTopicConfig([]string{"compression.type=uncompressed", "retention.bytes=-1", "sync=periodic", "sync.records=5"})
	if err != nil {
		t.Fatal(err)
	}
	want := log.TopicConfig{Compression: "none", RetentionBytes: log.Unlimited, Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 5}}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

// TestConsumeFollow: with --follow consume does not stop at the end; it stops at
// --max-messages, or when interrupted (exit 0).
func TestConsumeFollow(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "2")
	ok(t, dir, "a\nb\nc\n", "produce", "t")
	if got := sortedLines(ok(t, dir, "", "consume", "t", "--from-beginning", "--follow", "--max-messages", "3")); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("--follow --max-messages 3: %q", got)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout := &notifyWriter{onLine: func(n int) {
		if n == 3 {
			cancel() // everything is printed; consume now waits for more
		}
	}}
	r := strataWith(ctx, t, strings.NewReader(""), stdout, "consume", "t", "--from-beginning", "--follow", "--dir", dir)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("interrupted --follow: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := sortedLines(stdout.buf.String()); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("interrupted --follow printed %q", got)
	}
}

// A compacted topic from the CLI: its compaction settings are accepted, shown by
// describe, and checked.
func TestCompactedTopicConfig(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "kv", "--config", "cleanup.policy=compact", "--config", "delete.retention.ms=60000",
		"--config", "min.cleanable.dirty.ratio=0.25", "--config", "min.compaction.lag.ms=1000")
	got := lines(ok(t, dir, "", "topics", "describe", "kv"))[0]
	for _, want := range []string{"cleanup.policy=compact,", "delete.retention.ms=60000,", "min.cleanable.dirty.ratio=0.25,", "min.compaction.lag.ms=1000,"} {
		if !strings.Contains(got, want) {
			t.Fatalf("describe %q lacks %q", got, want)
		}
	}
	fails(t, dir, 2, "min.cleanable.dirty.ratio", "topics", "create", "kv2", "--config", "min.cleanable.dirty.ratio=1.5")
	ok(t, dir, "a:1\nb:2\n", "produce", "kv", "--key-separator", ":")
	r := strata(t, dir, "no key\n", "produce", "kv")
	checkFailure(t, r, 1, "needs a key", []string{"produce", "kv"})
}
