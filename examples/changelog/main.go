// Command changelog uses a compacted topic as a key-value changelog, Kafka's way of
// keeping a table durable: every change of a key is a record keyed by it (a nil
// value deletes the key), compaction keeps only the latest record of each key, and
// at start-up the program rebuilds its table by reading the topic from the start.
//
//	go run ./examples/changelog              # in a temporary directory
//	go run ./examples/changelog --dir data   # in ./data: run it twice, the table survives
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/stratalog/strata/log"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed at exit)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "strata-changelog-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "changelog:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "changelog:", err)
		os.Exit(1)
	}
}

// run rebuilds the stock table from the changelog, applies a day of changes, compacts
// the topic, and rebuilds the table again to show that compaction kept it whole.
func run(ctx context.Context, dir string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := log.Open(dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.DescribeTopic("stock"); err != nil {
		err := store.CreateTopic(ctx, "stock", log.TopicConfig{
			CleanupPolicy: log.CleanupCompact,
			SegmentBytes:  16 << 10, // small segments, so that this small example has sealed ones to compact
		})
		if err != nil {
			return err
		}
	}

	table, read, err := rebuild(ctx, store)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "start-up: rebuilt %d items from %d records\n", len(table), read)

	// A day of changes: stock levels move, one item is discontinued (a tombstone).
	var changes []*log.Record
	for i := range 2000 {
		item := fmt.Sprintf("item-%02d", i%40)
		changes = append(changes, &log.Record{Topic: "stock", Key: []byte(item), Value: fmt.Appendf(nil, "%d", (i*7)%100)})
	}
	changes = append(changes, &log.Record{Topic: "stock", Key: []byte("item-13"), Value: nil})
	for batch := range slices.Chunk(changes, 100) { // as changes arrive: many batches
		if err := store.Produce(ctx, batch...); err != nil {
			return err
		}
	}
	before, _, err := rebuild(ctx, store)
	if err != nil {
		return err
	}

	compacted, err := store.Compact(ctx)
	if err != nil {
		return err
	}
	d, err := store.DescribeTopic("stock")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "applied %d changes; compacted %d partition(s): %d bytes left in %d segments\n",
		len(changes), compacted, d.Partitions[0].Bytes, d.Partitions[0].Segments)

	after, read, err := rebuild(ctx, store)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rebuilt %d items from %d records (offsets [%d, %d))\n", len(after), read, d.Partitions[0].StartOffset, d.Partitions[0].EndOffset)
	if len(after) != len(before) {
		return fmt.Errorf("compaction changed the table: %d items, %d before", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			return fmt.Errorf("compaction changed %s: %q, was %q", k, after[k], v)
		}
	}
	_, discontinued := after["item-13"]
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range after {
			if !yield(k) {
				return
			}
		}
	})
	fmt.Fprintf(out, "same table as before compaction; item-13 deleted: %v; first items: %v=%s %v=%s\n",
		!discontinued, keys[0], after[keys[0]], keys[1], after[keys[1]])
	return nil
}

// rebuild reads the changelog from its start to its end offset and returns the
// table (latest value per key; a nil value deletes) and how many records it read.
func rebuild(ctx context.Context, store *log.Store) (map[string]string, int, error) {
	consumer, err := store.NewConsumer(log.ConsumerOptions{Reset: log.ResetEarliest})
	if err != nil {
		return nil, 0, err
	}
	defer consumer.Close()
	tp := log.TopicPartition{Topic: "stock"}
	if err := consumer.Assign(tp); err != nil {
		return nil, 0, err
	}
	d, err := store.DescribeTopic("stock")
	if err != nil {
		return nil, 0, err
	}
	end := d.Partitions[0].EndOffset
	table := map[string]string{}
	read := 0
	for {
		position, err := consumer.Position(tp)
		if err != nil {
			return nil, 0, err
		}
		if position >= end { // compaction may have removed the last offsets: compare, never wait for end-1
			return table, read, nil
		}
		records, err := consumer.Poll(ctx)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range records {
			read++
			if r.Value == nil {
				delete(table, string(r.Key))
			} else {
				table[string(r.Key)] = string(r.Value)
			}
		}
	}
}
