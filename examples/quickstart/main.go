// Command quickstart embeds a durable queue in a program: it opens a store in a
// directory, creates a topic, produces records (each acknowledged only once
// fsynced), consumes them as a member of a consumer group that commits its
// position, closes the store, reopens it and shows that the records and the
// group's committed position survived: after more records are produced, a new
// member of the group continues exactly after what the first one committed.
//
//	go run ./examples/quickstart             # in a temporary directory
//	go run ./examples/quickstart --dir data  # in ./data, kept (run it again: the group continues)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/stratalog/strata/log"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed at exit)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "strata-quickstart-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "quickstart:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

const (
	topic     = "orders"
	groupName = "billing"
)

// run is the whole example, writing what it does to out.
func run(ctx context.Context, dir string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	store, err := log.Open(dir, nil) // nil: defaults; every append fsynced before it is acknowledged
	if err != nil {
		return err
	}
	if _, err := store.DescribeTopic(topic); err != nil {
		if err := store.CreateTopic(ctx, topic, log.TopicConfig{Partitions: 3}); err != nil {
			store.Close()
			return err
		}
		fmt.Fprintf(out, "created topic %s with 3 partitions\n", topic)
	}
	if err := produce(ctx, store, out, "alice", "bob", "carol", "alice", "bob", "alice"); err != nil {
		store.Close()
		return err
	}
	if err := consume(ctx, store, out); err != nil {
		store.Close()
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	fmt.Fprintln(out, "closed the store")

	// Reopen: the records are still there, at the same offsets, and so is the
	// group's committed position.
	store, err = log.Open(dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	desc, err := store.DescribeTopic(topic)
	if err != nil {
		return err
	}
	fmt.Fprint(out, "reopened:")
	for _, p := range desc.Partitions {
		fmt.Fprintf(out, " partition %d holds offsets [%d, %d);", p.Partition, p.StartOffset, p.EndOffset)
	}
	fmt.Fprintln(out)
	if err := produce(ctx, store, out, "dave", "alice", "erin"); err != nil {
		return err
	}
	return consume(ctx, store, out)
}

// produce writes one order per customer, keyed by customer: the records of a key
// always go to the same partition, in order. Store.Produce returns once they are
// durable.
func produce(ctx context.Context, store *log.Store, out io.Writer, customers ...string) error {
	desc, err := store.DescribeTopic(topic)
	if err != nil {
		return err
	}
	number := 0 // orders so far, to number the new ones
	for _, p := range desc.Partitions {
		number += int(p.EndOffset)
	}
	records := make([]*log.Record, len(customers))
	for i, customer := range customers {
		records[i] = &log.Record{Topic: topic, Key: []byte(customer), Value: fmt.Appendf(nil, "order %d", number+i+1)}
	}
	if err := store.Produce(ctx, records...); err != nil {
		return err
	}
	for _, r := range records {
		fmt.Fprintf(out, "produced %-8s %-8s -> partition %d offset %d\n", r.Key, r.Value, r.Partition, r.Offset)
	}
	return nil
}

// consume reads every record not yet consumed by the group, as its (only) member,
// committing after each Poll, and checks that each partition continues exactly at
// the group's committed offset, with no record skipped or read twice.
func consume(ctx context.Context, store *log.Store, out io.Writer) error {
	desc, err := store.DescribeTopic(topic)
	if err != nil {
		return err
	}
	committed, err := store.CommittedOffsets(ctx, groupName) // none the first time
	if err != nil {
		return err
	}
	next := map[int32]int64{} // the offset each partition must deliver next
	end := map[int32]int64{}  // where it ends now
	for _, p := range desc.Partitions {
		tp := log.TopicPartition{Topic: topic, Partition: p.Partition}
		if c, ok := committed[tp]; ok {
			next[p.Partition] = c.Offset
			fmt.Fprintf(out, "group %s: partition %d resumes at its committed offset %d\n", groupName, p.Partition, c.Offset)
		} else {
			next[p.Partition] = p.StartOffset // Reset: ResetEarliest, the default
		}
		end[p.Partition] = p.EndOffset
	}

	consumer, err := store.NewGroupConsumer(log.GroupConsumerOptions{
		Group:             groupName,
		Topics:            []string{topic},
		DisableAutoCommit: true, // commit explicitly, below
	})
	if err != nil {
		return err
	}
	defer consumer.Close() // leaves the group
	for !caughtUp(next, end) {
		records, err := consumer.Poll(ctx) // joins the group, then waits for records
		if err != nil {
			return err
		}
		for _, r := range records {
			if r.Offset != next[r.Partition] {
				return fmt.Errorf("partition %d delivered offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
			}
			next[r.Partition] = r.Offset + 1
			fmt.Fprintf(out, "consumed %-8s %-8s <- partition %d offset %d\n", r.Key, r.Value, r.Partition, r.Offset)
		}
		// Processed: commit the position after every record Poll returned. After a
		// crash the group resumes here; what was not committed is delivered again.
		if err := consumer.Commit(ctx); err != nil {
			return err
		}
	}
	committed, err = store.CommittedOffsets(ctx, groupName)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "group %s committed:", groupName)
	for _, p := range slices.Sorted(maps.Keys(next)) {
		c, ok := committed[log.TopicPartition{Topic: topic, Partition: p}]
		if !ok {
			fmt.Fprintf(out, " partition %d: none;", p) // nothing was ever read there
			continue
		}
		fmt.Fprintf(out, " partition %d at %d;", p, c.Offset)
	}
	fmt.Fprintln(out)
	return consumer.Close()
}

// caughtUp reports whether every partition delivered everything up to its end.
func caughtUp(next, end map[int32]int64) bool {
	for p, e := range end {
		if next[p] < e {
			return false
		}
	}
	return true
}
