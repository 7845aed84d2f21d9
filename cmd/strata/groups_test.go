package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
)

// produceLines produces n lines "v<from>".."v<from+n-1>" with keys spreading them
// over the topic's partitions, and returns consume's --print-offset output for
// them, sorted.
func produceLines(t *testing.T, dir, topic string, from, n int) []string {
	t.Helper()
	var in strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&in, "k%d:v%d\n", i, i)
	}
	offsets := lines(ok(t, dir, in.String(), "produce", topic, "--key-separator", ":", "--print-offsets"))
	want := make([]string, n)
	for i, po := range offsets {
		want[i] = fmt.Sprintf("%s\tv%d", po, from+i)
	}
	slices.Sort(want)
	return want
}

// TestConsumeGroupContinues: a second consume --group continues exactly after what
// the first printed (and committed), across partitions and across --max-messages;
// a run with nothing new prints nothing.
func TestConsumeGroupContinues(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders", "--partitions", "3")
	all := produceLines(t, dir, "orders", 0, 20)

	first := lines(ok(t, dir, "", "consume", "orders", "--group", "billing", "--from-beginning", "--max-messages", "7", "--print-offset"))
	if len(first) != 7 {
		t.Fatalf("first run printed %d lines, want 7: %q", len(first), first)
	}
	second := lines(ok(t, dir, "", "consume", "orders", "--group", "billing", "--from-beginning", "--print-offset"))
	got := append(slices.Clone(first), second...)
	slices.Sort(got)
	if !slices.Equal(got, all) {
		t.Fatalf("the two runs printed, together:\n%q\nwant every record once:\n%q", got, all)
	}
	if out := ok(t, dir, "", "consume", "orders", "--group", "billing"); out != "" {
		t.Fatalf("third run, nothing new: %q", out)
	}
	more := produceLines(t, dir, "orders", 20, 5)
	if got := sortedLines(ok(t, dir, "", "consume", "orders", "--group", "billing", "--print-offset")); !slices.Equal(got, more) {
		t.Fatalf("after producing more: %q, want %q", got, more)
	}
}

// TestConsumeGroupStart: the group's committed offsets win over --from-beginning,
// which applies only to partitions without one; without it a new group starts at
// the end, and that position is committed so the next run reads what came since.
func TestConsumeGroupStart(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "2")
	old := produceLines(t, dir, "t", 0, 6)

	// A new group without --from-beginning: nothing now, but what comes next.
	if out := ok(t, dir, "", "consume", "t", "--group", "late"); out != "" {
		t.Fatalf("new group from the end: %q", out)
	}
	newer := produceLines(t, dir, "t", 6, 4)
	if got := sortedLines(ok(t, dir, "", "consume", "t", "--group", "late", "--from-beginning", "--print-offset")); !slices.Equal(got, newer) {
		t.Fatalf("--from-beginning with committed offsets: %q, want only %q", got, newer)
	}

	// Committed for one partition only: --from-beginning reads the other from its
	// start, the committed one from its commit.
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Partition 0 committed at its end: nothing to read there.
	end0 := describePartitions(t, store, "t")[0].EndOffset
	if err := store.CommitGroupOffsets(t.Context(), "half", map[log.TopicPartition]log.OffsetAndMetadata{{Topic: "t", Partition: 0}: {Offset: end0}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	var partitionOne []string
	for _, line := range append(slices.Clone(old), newer...) {
		if strings.HasPrefix(line, "1:") {
			partitionOne = append(partitionOne, line)
		}
	}
	slices.Sort(partitionOne)
	if got := sortedLines(ok(t, dir, "", "consume", "t", "--group", "half", "--from-beginning", "--print-offset")); !slices.Equal(got, partitionOne) {
		t.Fatalf("--from-beginning where only partition 1 has no commit: %q, want %q", got, partitionOne)
	}
}

// TestConsumeGroupFromTime: --from-time applies where the group has no committed
// offset, like --from-beginning.
func TestConsumeGroupFromTime(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "events")
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := store.Produce(t.Context(), &log.Record{Topic: "events", Value: fmt.Appendf(nil, "e%d", i), Timestamp: base.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if got := lines(ok(t, dir, "", "consume", "events", "--group", "g", "--from-time", "2024-05-01T12:03:00Z")); !slices.Equal(got, []string{"e3", "e4"}) {
		t.Fatalf("--from-time with a new group: %q", got)
	}
	if got := ok(t, dir, "", "consume", "events", "--group", "g", "--from-time", "2024-05-01T12:00:00Z"); got != "" {
		t.Fatalf("--from-time with committed offsets: %q", got)
	}
}

// TestConsumeGroupInterrupted: consume --group --follow stopped by a signal has
// committed everything it printed, and nothing more.
func TestConsumeGroupInterrupted(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "2")
	all := produceLines(t, dir, "t", 0, 8)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout := &notifyWriter{onLine: func(n int) {
		if n == len(all) {
			cancel() // everything is printed; consume now waits for more
		}
	}}
	r := strataWith(ctx, t, strings.NewReader(""), stdout, "consume", "t", "--group", "g", "--from-beginning", "--follow", "--print-offset", "--dir", dir)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("interrupted --follow --group: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := sortedLines(stdout.buf.String()); !slices.Equal(got, all) {
		t.Fatalf("printed %q, want %q", got, all)
	}
	if out := ok(t, dir, "", "consume", "t", "--group", "g", "--from-beginning"); out != "" {
		t.Fatalf("after the interrupted run everything was committed, yet: %q", out)
	}
}

// TestGroupsListDescribe: list and describe after consuming, and the lag after
// producing more.
func TestGroupsListDescribe(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "orders", "--partitions", "2")
	if out := ok(t, dir, "", "groups", "list"); out != "" {
		t.Fatalf("list with no groups: %q", out)
	}
	fails(t, dir, 1, `unknown group "billing"`, "groups", "describe", "billing")

	// Three records in partition 0, two in partition 1.
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []int32{0, 0, 1, 0, 1} {
		if err := store.Produce(t.Context(), &log.Record{Topic: "orders", Partition: p, ExplicitPartition: true, Value: fmt.Appendf(nil, "v%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if got := lines(ok(t, dir, "", "consume", "orders", "--group", "billing", "--from-beginning")); len(got) != 5 {
		t.Fatalf("consume: %q", got)
	}
	ok(t, dir, "", "groups", "reset-offsets", "audit", "--topic", "orders", "--to-offset", "1", "--execute")

	if got := ok(t, dir, "", "groups", "list"); got != "audit\tEmpty\t-\nbilling\tEmpty\tconsumer\n" {
		t.Fatalf("list: %q", got)
	}
	describe := lines(ok(t, dir, "", "groups", "describe", "billing"))
	header := "Group: billing\tState: Empty\tProtocolType: consumer\tProtocol: -\tGeneration: "
	if len(describe) != 5 || !strings.HasPrefix(describe[0], header) || !strings.HasSuffix(describe[0], "\tMembers: 0") || describe[1] != "" {
		t.Fatalf("describe:\n%s", strings.Join(describe, "\n"))
	}
	want := []string{
		"GROUP    TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID",
		"billing  orders  0          3               3               0    -",
		"billing  orders  1          2               2               0    -",
	}
	if !slices.Equal(describe[2:], want) {
		t.Fatalf("describe table:\n%s\nwant:\n%s", strings.Join(describe[2:], "\n"), strings.Join(want, "\n"))
	}

	ok(t, dir, "a\nb\nc\n", "produce", "orders", "--partition", "1")
	describe = lines(ok(t, dir, "", "groups", "describe", "billing"))
	if want := "billing  orders  1          2               5               3    -"; describe[4] != want {
		t.Fatalf("lag after producing three more to partition 1: %q, want %q", describe[4], want)
	}
	describe = lines(ok(t, dir, "", "groups", "describe", "audit"))
	if !strings.HasPrefix(describe[0], "Group: audit\tState: Empty\tProtocolType: -\t") {
		t.Fatalf("describe of a group committed from outside: %q", describe[0])
	}
	if want := "audit  orders  1          1               5               4    -"; describe[4] != want {
		t.Fatalf("describe audit: %q, want %q", describe[4], want)
	}
}

// TestGroupsResetOffsets: to the earliest (consume --group then reads everything
// again), the latest, an offset (clamped to each partition's records, as Kafka
// does); an unknown topic fails.
func TestGroupsResetOffsets(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "2")
	all := produceLines(t, dir, "t", 0, 10)
	if got := sortedLines(ok(t, dir, "", "consume", "t", "--group", "g", "--from-beginning", "--print-offset")); !slices.Equal(got, all) {
		t.Fatalf("first consume: %q", got)
	}
	ends := map[string]int{}
	for _, line := range all {
		p, _, _ := strings.Cut(line, ":")
		ends[p]++
	}

	got := ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--execute")
	want := "GROUP  TOPIC  PARTITION  NEW-OFFSET\ng      t      0          0\ng      t      1          0\n"
	if got != want {
		t.Fatalf("reset --to-earliest printed:\n%s\nwant:\n%s", got, want)
	}
	if got := sortedLines(ok(t, dir, "", "consume", "t", "--group", "g", "--print-offset")); !slices.Equal(got, all) {
		t.Fatalf("consume after --to-earliest: %q, want everything again: %q", got, all)
	}

	ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "1", "--execute")
	var fromOne []string
	for _, line := range all {
		if !strings.HasPrefix(line[strings.Index(line, ":"):], ":0\t") {
			fromOne = append(fromOne, line)
		}
	}
	if got := sortedLines(ok(t, dir, "", "consume", "t", "--group", "g", "--print-offset")); !slices.Equal(got, fromOne) {
		t.Fatalf("consume after --to-offset 1: %q, want %q", got, fromOne)
	}

	got = ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-offset", "1000", "--execute")
	want = fmt.Sprintf("GROUP  TOPIC  PARTITION  NEW-OFFSET\ng      t      0          %d\ng      t      1          %d\n", ends["0"], ends["1"])
	if got != want {
		t.Fatalf("reset --to-offset 1000 (beyond the end):\n%s\nwant:\n%s", got, want)
	}
	ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--execute")
	ok(t, dir, "", "groups", "reset-offsets", "g", "--topic", "t", "--to-latest", "--execute")
	if out := ok(t, dir, "", "consume", "t", "--group", "g", "--from-beginning"); out != "" {
		t.Fatalf("consume after --to-latest: %q", out)
	}

	fails(t, dir, 1, `unknown topic "nope"`, "groups", "reset-offsets", "g", "--topic", "nope", "--to-earliest", "--execute")
	fails(t, dir, 1, `unknown topic "nope"`, "consume", "nope", "--group", "g")
	fails(t, dir, 1, "__consumer_offsets is an internal topic: consume it without --group", "consume", log.OffsetsTopic, "--group", "g")
}

// TestGroupsWithMembers: describe shows the members of a group and the partitions
// they own, and reset-offsets refuses a group with members. The CLI cannot see a
// member (it holds the store, so no application can), so the commands' functions
// are called with a store that has one.
func TestGroupsWithMembers(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t", "--partitions", "2")
	produceLines(t, dir, "t", 0, 4)
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	assigned := make(chan []log.TopicPartition, 1)
	member, err := store.NewGroupConsumer(log.GroupConsumerOptions{
		Group: "g", Topics: []string{"t"}, ClientID: "app", DisableAutoCommit: true,
		OnAssigned: func(tps []log.TopicPartition) { assigned <- tps },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	select {
	case tps := <-assigned: // a lone member joins at once, with every partition
		if len(tps) != 2 {
			t.Fatalf("assigned %v", tps)
		}
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	}

	var out bytes.Buffer
	if err := describeGroup(&out, store, "g"); err != nil {
		t.Fatal(err)
	}
	id := member.MemberID()
	got := lines(out.String())
	if len(got) != 6 || !strings.HasPrefix(got[0], "Group: g\tState: Stable\tProtocolType: consumer\tProtocol: cooperative-sticky\tGeneration: 1\tMembers: 1") {
		t.Fatalf("describe:\n%s", out.String())
	}
	if want := "Member: " + id + "\tClientID: app\tInstanceID: -\tTopics: t\tAssignment: t-0,t-1"; got[1] != want {
		t.Fatalf("member line %q, want %q", got[1], want)
	}
	for i, line := range got[4:] {
		fields := strings.Fields(line)
		if want := []string{"g", "t", fmt.Sprint(i), "-", fields[4], "-", id}; !slices.Equal(fields, want) {
			t.Fatalf("partition %d: %q, want the owner and no commit", i, line)
		}
	}

	out.Reset()
	err = resetOffsets(t.Context(), &out, store, "g", "t", resetTarget{earliest: true}, true)
	if err == nil || !strings.Contains(err.Error(), `group "g" has 1 member(s) (state Stable)`) || !strings.Contains(err.Error(), "stop its consumers first") {
		t.Fatalf("reset of a group with a member: %v", err)
	}
	// The store's own refusal, which the check before it normally spares the user.
	err = commitOutsideGroup(t.Context(), store, "g", map[log.TopicPartition]log.OffsetAndMetadata{{Topic: "t"}: {Offset: 0}})
	if err == nil || !strings.Contains(err.Error(), "stop its consumers first") {
		t.Fatalf("commit from outside a group with a member: %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("a refused reset printed %q", out.String())
	}
}

// describePartitions returns the partitions of topic.
func describePartitions(t *testing.T, store *log.Store, topic string) []log.PartitionInfo {
	t.Helper()
	d, err := store.DescribeTopic(topic)
	if err != nil {
		t.Fatal(err)
	}
	return d.Partitions
}
