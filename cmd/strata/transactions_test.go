package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
)

// hangingProducerID is a producer id the store's coordinator never hands out.
const hangingProducerID int64 = 1 << 40

// transactionsStore returns a store with topic "out" of two partitions and a
// committed ("committed", out-0 and out-1), an aborted ("aborted", out-0) and an
// open transaction ("open", out-0 from offset 4); and, written with the store
// closed, a hanging transaction in out-1 from offset 2: a transactional batch of
// a producer the coordinator never knew, an hour old.
//
// Closing a transactional producer aborts its transaction, and closing the store
// closes its producers: the store returned is a copy of the directory taken
// while the open transaction was open, as an application that crashed leaves it.
func transactionsStore(t *testing.T) string {
	t.Helper()
	source := t.TempDir()
	ok(t, source, "", "topics", "create", "out", "--partitions", "2")
	store, err := log.Open(source, &log.Options{TransactionCheckInterval: -1, RetentionCheckInterval: -1, RecoveryPointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := t.Context()
	transaction := func(id string, end func(*log.Producer, context.Context) error, partitions ...int32) {
		t.Helper()
		p, err := store.NewProducer(log.ProducerOptions{TransactionalID: id, Linger: -1})
		if err != nil {
			t.Fatal(err)
		}
		if end != nil {
			defer p.Close()
		}
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, n := range partitions {
			r := &log.Record{Topic: "out", Partition: n, ExplicitPartition: true, Value: []byte(id)}
			if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if end != nil {
			if err := end(p, ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	transaction("committed", (*log.Producer).CommitTransaction, 0, 1)
	transaction("aborted", (*log.Producer).AbortTransaction, 0)
	transaction("open", nil, 0)
	if err := store.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(dir, os.DirFS(source)); err != nil {
		t.Fatal(err)
	}

	p, err := partition.Open(filepath.Join(dir, "out-1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UnixMilli()
	first, err := p.AppendWith(ctx, []partition.Record{{Value: []byte("h0"), Timestamp: old}, {Value: []byte("h1"), Timestamp: old}},
		&partition.AppendOptions{Producer: &partition.Producer{ID: hangingProducerID, Transactional: true}})
	if err != nil || first != 2 {
		t.Fatalf("hanging batch at %d: %v", first, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// table splits a table's output into rows of fields; the header row first.
func table(t *testing.T, out string) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range lines(out) {
		rows = append(rows, strings.Fields(line))
	}
	if len(rows) == 0 {
		t.Fatalf("no header in %q", out)
	}
	return rows
}

func TestTransactionsListAndDescribe(t *testing.T) {
	dir := transactionsStore(t)

	rows := table(t, ok(t, dir, "", "transactions", "list"))
	if want := []string{"TransactionalId", "Coordinator", "ProducerId", "TransactionState"}; !slices.Equal(rows[0], want) {
		t.Fatalf("header %q, want %q", rows[0], want)
	}
	var states []string
	producerIDs := map[string]string{}
	for _, r := range rows[1:] {
		states = append(states, r[0]+" "+r[1]+" "+r[3])
		producerIDs[r[0]] = r[2]
	}
	if want := []string{"aborted 0 CompleteAbort", "committed 0 CompleteCommit", "open 0 Ongoing"}; !slices.Equal(states, want) {
		t.Fatalf("list: %q, want %q", states, want)
	}

	rows = table(t, ok(t, dir, "", "transactions", "describe", "--transactional-id", "open"))
	want := []string{"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
		"TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions"}
	if !slices.Equal(rows[0], want) || len(rows) != 2 || len(rows[1]) != len(want) {
		t.Fatalf("describe: %q", rows)
	}
	r := rows[1]
	if r[0] != "0" || r[1] != "open" || r[2] != producerIDs["open"] || r[4] != "Ongoing" || r[5] != "60000" || r[8] != "out-0" {
		t.Fatalf("describe open: %q", r)
	}
	if start, err := strconv.ParseInt(r[6], 10, 64); err != nil || time.Since(time.UnixMilli(start)) > time.Minute || time.Since(time.UnixMilli(start)) < 0 {
		t.Fatalf("start time %q: %v", r[6], err)
	}

	rows = table(t, ok(t, dir, "", "transactions", "describe", "--transactional-id", "committed"))
	if r := rows[1]; r[4] != "CompleteCommit" || r[6] != "None" || r[7] != "None" || len(r) != 8 {
		t.Fatalf("describe committed (no partitions left): %q", r)
	}

	fails(t, dir, exitFailure, `transactional id not found: "nobody"`, "transactions", "describe", "--transactional-id", "nobody")
	fails(t, dir, exitUsage, "--transactional-id is required", "transactions", "describe")
}

func TestTransactionsDescribeProducers(t *testing.T) {
	dir := transactionsStore(t)
	ids := map[string]string{}
	for _, r := range table(t, ok(t, dir, "", "transactions", "list"))[1:] {
		ids[r[0]] = r[2]
	}

	rows := table(t, ok(t, dir, "", "transactions", "describe-producers", "--topic", "out", "--partition", "0"))
	want := []string{"ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset"}
	if !slices.Equal(rows[0], want) || len(rows) != 4 {
		t.Fatalf("describe-producers: %q", rows)
	}
	start := map[string]string{}
	for _, r := range rows[1:] {
		start[r[0]] = r[5]
	}
	// out-0: committed (0), its marker (1), aborted (2), its marker (3), open (4).
	if w := map[string]string{ids["committed"]: "None", ids["aborted"]: "None", ids["open"]: "4"}; !maps.Equal(start, w) {
		t.Fatalf("start offsets %v, want %v", start, w)
	}

	rows = table(t, ok(t, dir, "", "transactions", "describe-producers", "--topic", "out", "--partition", "1"))
	hanging := rows[len(rows)-1]
	if hanging[0] != strconv.FormatInt(hangingProducerID, 10) || hanging[2] != "-1" || hanging[3] != "1" || hanging[5] != "2" {
		t.Fatalf("the hanging producer: %q", hanging)
	}

	fails(t, dir, exitUsage, "--partition is required", "transactions", "describe-producers", "--topic", "out")
	fails(t, dir, exitFailure, "no partition 2", "transactions", "describe-producers", "--topic", "out", "--partition", "2")
}

// TestTransactionsFindHangingAndAbort: find-hanging reports the transaction the
// coordinator never knew (not the open one it has in progress), abort
// --start-offset ends it, and then the partition's last stable offset is its end.
func TestTransactionsFindHangingAndAbort(t *testing.T) {
	dir := transactionsStore(t)

	rows := table(t, ok(t, dir, "", "transactions", "find-hanging"))
	want := []string{"Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset", "LastTimestamp", "Duration(min)"}
	if !slices.Equal(rows[0], want) || len(rows) != 2 {
		t.Fatalf("find-hanging: %q", rows)
	}
	if r := rows[1]; !slices.Equal(r[:6], []string{"out", "1", strconv.FormatInt(hangingProducerID, 10), "0", "-1", "2"}) || (r[7] != "60" && r[7] != "61") {
		t.Fatalf("hanging: %q", r)
	}
	if rows := table(t, ok(t, dir, "", "transactions", "find-hanging", "--max-transaction-timeout", "90")); len(rows) != 1 {
		t.Fatalf("an hour old is not older than 90 minutes: %q", rows)
	}
	if rows := table(t, ok(t, dir, "", "transactions", "find-hanging", "--topic", "out", "--partition", "0")); len(rows) != 1 {
		t.Fatalf("nothing hangs in out-0: %q", rows)
	}
	fails(t, dir, exitUsage, "--partition needs --topic", "transactions", "find-hanging", "--partition", "0")

	fails(t, dir, exitFailure, "no open transaction starts at offset 3 in out-1", "transactions", "abort", "--topic", "out", "--partition", "1", "--start-offset", "3")
	fails(t, dir, exitUsage, "either --start-offset or --producer-id", "transactions", "abort", "--topic", "out", "--partition", "1")
	fails(t, dir, exitUsage, "--producer-id needs --coordinator-epoch", "transactions", "abort", "--topic", "out", "--partition", "1",
		"--producer-id", "7", "--producer-epoch", "0")
	out := ok(t, dir, "", "transactions", "abort", "--topic", "out", "--partition", "1", "--start-offset", "2")
	if want := "Aborted the transaction of producer " + strconv.FormatInt(hangingProducerID, 10) + " (epoch 0) in out-1.\n"; out != want {
		t.Fatalf("abort: %q, want %q", out, want)
	}
	if rows := table(t, ok(t, dir, "", "transactions", "find-hanging")); len(rows) != 1 {
		t.Fatalf("after the abort: %q", rows)
	}

	p, err := partition.Open(filepath.Join(dir, "out-1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if lso, end := p.LastStableOffset(), p.EndOffset(); lso != end || end != 5 {
		t.Fatalf("last stable offset %d, end offset %d: want both 5 (the marker at 4)", lso, end)
	}
}

// TestTransactionsAbortByProducer: abort names the transaction by producer id,
// epoch and coordinator epoch (-1 counting as 0), as for Kafka's older brokers.
func TestTransactionsAbortByProducer(t *testing.T) {
	dir := transactionsStore(t)
	id := strconv.FormatInt(hangingProducerID, 10)
	fails(t, dir, exitUsage, "--producer-epoch 40000: want 0 to 32767", "transactions", "abort", "--topic", "out", "--partition", "1",
		"--producer-id", id, "--producer-epoch", "40000", "--coordinator-epoch", "-1")
	ok(t, dir, "", "transactions", "abort", "--topic", "out", "--partition", "1", "--producer-id", id, "--producer-epoch", "0", "--coordinator-epoch", "-1")
	if rows := table(t, ok(t, dir, "", "transactions", "find-hanging")); len(rows) != 1 {
		t.Fatalf("after the abort: %q", rows)
	}
}
