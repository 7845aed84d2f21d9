// Command exactly-once copies a topic to another with exactly-once results:
// consume-transform-produce in transactions (a GroupTransactSession), where each
// transaction holds the records written from what was consumed and the group's
// offsets past them, committed together or not at all. It seeds a finite input
// topic, copies it (aborting one transaction in seven on purpose, to show that
// an aborted transaction leaves nothing behind and its input is processed again),
// and checks that read_committed readers of the output see every input record
// exactly once, in order per key.
//
//	go run ./examples/exactly-once
//	go run ./examples/exactly-once --dir data   # keep the data in ./data
//
// The modes seed, copy and check run one step each on --dir; the example's test
// runs copy in a child process and kills it with SIGKILL again and again while it
// copies, restarting it each time, and then checks the output: still exactly once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stratalog/strata/log"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed at exit)")
	mode := flag.String("mode", "all", "all (seed, copy, check), or one of seed, copy, check")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "strata-exactly-once-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "exactly-once:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), *dir, *mode, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "exactly-once:", err)
		os.Exit(1)
	}
}

const (
	input      = "payments"
	output     = "payments-audited"
	groupName  = "auditor"
	txnID      = "auditor-1" // stable: a restarted copier fences the one it replaces
	partitions = 3
	keys       = 20
	records    = 3000
	// abortEvery aborts one transaction in abortEvery on purpose.
	abortEvery = 7
)

// pollRecords bounds the records a transaction copies (the consumer's
// MaxPollRecords); the kill loop of the test lowers it, for more transactions to
// kill the copier in.
var pollRecords = 200

// run runs mode on the store in dir, writing what happens to out.
func run(ctx context.Context, dir, mode string, out io.Writer) error {
	store, err := log.Open(dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	switch mode {
	case "all":
		if err := seed(ctx, store, out); err != nil {
			return err
		}
		if err := copyTopic(ctx, store, out); err != nil {
			return err
		}
		return check(ctx, store, out)
	case "seed":
		return seed(ctx, store, out)
	case "copy":
		return copyTopic(ctx, store, out)
	case "check":
		return check(ctx, store, out)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// seed creates both topics and writes the input: records values "key-K/N", N
// counting per key from 0.
func seed(ctx context.Context, store *log.Store, out io.Writer) error {
	for _, name := range []string{input, output} {
		err := store.CreateTopic(ctx, name, log.TopicConfig{Partitions: partitions})
		if err != nil && !errors.Is(err, log.ErrTopicExists) {
			return err
		}
	}
	if ends, err := store.ListEndOffsets(input); err != nil {
		return err
	} else if sum(ends) > 0 {
		fmt.Fprintf(out, "input already seeded: %d records\n", sum(ends))
		return nil
	}
	batch := make([]*log.Record, 0, records)
	for i := range records {
		key := fmt.Sprintf("key-%d", i%keys)
		batch = append(batch, &log.Record{Topic: input, Key: []byte(key), Value: fmt.Appendf(nil, "%s/%d", key, i/keys)})
	}
	if err := store.Produce(ctx, batch...); err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %s with %d records over %d keys\n", input, records, keys)
	return nil
}

// copyTopic copies the input to the output in transactions until the group's
// committed offsets reach the input's end.
func copyTopic(ctx context.Context, store *log.Store, out io.Writer) error {
	session, err := store.NewGroupTransactSession(
		log.GroupConsumerOptions{Group: groupName, Topics: []string{input}, MaxPollRecords: pollRecords},
		log.ProducerOptions{TransactionalID: txnID},
	)
	if err != nil {
		return err
	}
	defer session.Close()
	ends, err := store.ListEndOffsets(input)
	if err != nil {
		return err
	}
	committedTxns, abortedTxns := 0, 0
	for n := 1; ; n++ {
		done, err := caughtUp(ctx, store, ends)
		if err != nil || done {
			fmt.Fprintf(out, "copied: %d transactions committed, %d aborted on purpose\n", committedTxns, abortedTxns)
			return err
		}
		if err := session.Begin(); err != nil {
			return err
		}
		pollCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		polled, err := session.Poll(pollCtx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		for _, r := range polled {
			audited := &log.Record{Topic: output, Key: r.Key, Value: append(r.Value, " audited"...)}
			session.Produce(ctx, audited, nil)
		}
		commit := n%abortEvery != 0
		fmt.Fprintf(out, "transaction %d: %d records produced, ending\n", n, len(polled))
		committed, err := session.End(ctx, commit)
		if err != nil {
			return err
		}
		switch {
		case committed:
			committedTxns++
			fmt.Fprintf(out, "transaction %d committed: %d records copied\n", n, len(polled))
		case !commit:
			abortedTxns++
			fmt.Fprintf(out, "transaction %d aborted on purpose: its %d records will be copied again\n", n, len(polled))
		}
	}
}

// caughtUp reports whether the group committed the input's end in every
// partition.
func caughtUp(ctx context.Context, store *log.Store, ends map[log.TopicPartition]int64) (bool, error) {
	committed, err := store.CommittedOffsets(ctx, groupName, inputPartitions()...)
	if err != nil {
		return false, err
	}
	for tp, end := range ends {
		if committed[tp].Offset < end {
			return false, nil
		}
	}
	return true, nil
}

// check reads the output as a read_committed consumer and verifies that it holds
// every input record exactly once, in order per key.
func check(ctx context.Context, store *log.Store, out io.Writer) error {
	c, err := store.NewConsumer(log.ConsumerOptions{IsolationLevel: log.ReadCommitted})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.AssignTopics(output); err != nil {
		return err
	}
	next := map[string]int{} // per key, the count expected next
	total := 0
	for {
		r, err := c.TryNext()
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		key, n, ok := parse(string(r.Value))
		if !ok || key != string(r.Key) {
			return fmt.Errorf("output record %s@%d holds %q", r.Topic, r.Offset, r.Value)
		}
		if n != next[key] {
			return fmt.Errorf("output of %s: got record %d, want %d (a duplicate, a gap, or out of order)", key, n, next[key])
		}
		next[key]++
		total++
	}
	if total != records {
		return fmt.Errorf("output holds %d records, want %d", total, records)
	}
	uncommitted, err := countUncommitted(store)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "checked: %s holds each of the %d input records exactly once, in order per key (%d records of aborted transactions skipped)\n",
		output, total, uncommitted)
	return nil
}

// countUncommitted counts the output records read_committed readers skip: those
// of aborted transactions.
func countUncommitted(store *log.Store) (int, error) {
	c, err := store.NewConsumer(log.ConsumerOptions{})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.AssignTopics(output); err != nil {
		return 0, err
	}
	n := 0
	for {
		r, err := c.TryNext()
		if err != nil || r == nil {
			return n - records, err
		}
		n++
	}
}

// parse splits "key-K/N audited".
func parse(value string) (key string, n int, ok bool) {
	value, ok = strings.CutSuffix(value, " audited")
	if !ok {
		return "", 0, false
	}
	key, count, ok := strings.Cut(value, "/")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.Atoi(count)
	return key, n, err == nil
}

func inputPartitions() []log.TopicPartition {
	tps := make([]log.TopicPartition, partitions)
	for i := range tps {
		tps[i] = log.TopicPartition{Topic: input, Partition: int32(i)}
	}
	return tps
}

func sum(m map[log.TopicPartition]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
