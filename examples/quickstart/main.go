// Command quickstart embeds a durable log in a program: it opens a store in a
// directory, creates a topic, produces records (each acknowledged only once fsynced),
// consumes them, closes the store, reopens it and shows that the records survived.
//
//	go run ./examples/quickstart             # in a temporary directory
//	go run ./examples/quickstart --dir data  # in ./data, kept afterwards
//
// Consumer groups join this example when the group package lands.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
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

// run is the whole example, writing what it does to out.
func run(ctx context.Context, dir string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	store, err := log.Open(dir, nil) // nil: defaults; every append fsynced before it is acknowledged
	if err != nil {
		return err
	}
	if _, err := store.DescribeTopic("orders"); err != nil {
		if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3}); err != nil {
			return err
		}
		fmt.Fprintln(out, "created topic orders with 3 partitions")
	}

	// Produce: records with the same key always go to the same partition.
	var records []*log.Record
	for i, customer := range []string{"alice", "bob", "carol", "alice", "bob", "alice"} {
		records = append(records, &log.Record{Topic: "orders", Key: []byte(customer), Value: []byte(fmt.Sprintf("order %d", i+1))})
	}
	if err := store.Produce(ctx, records...); err != nil {
		return err
	}
	for _, r := range records {
		fmt.Fprintf(out, "produced %-8s %-8s -> partition %d offset %d\n", r.Key, r.Value, r.Partition, r.Offset)
	}
	if err := store.Close(); err != nil {
		return err
	}
	fmt.Fprintln(out, "closed the store")

	// Reopen: everything acknowledged is still there, at the same offsets.
	store, err = log.Open(dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	consumer, err := store.NewConsumer(log.ConsumerOptions{Reset: log.ResetEarliest})
	if err != nil {
		return err
	}
	defer consumer.Close()
	if err := consumer.Assign(
		log.TopicPartition{Topic: "orders", Partition: 0},
		log.TopicPartition{Topic: "orders", Partition: 1},
		log.TopicPartition{Topic: "orders", Partition: 2},
	); err != nil {
		return err
	}
	fmt.Fprintln(out, "reopened; consuming from the beginning:")
	seen := 0
	for seen < len(records) {
		polled, err := consumer.Poll(ctx) // waits until records arrive
		if err != nil {
			return err
		}
		for _, r := range polled {
			fmt.Fprintf(out, "consumed %-8s %-8s <- partition %d offset %d\n", r.Key, r.Value, r.Partition, r.Offset)
			seen++
		}
	}
	desc, err := store.DescribeTopic("orders")
	if err != nil {
		return err
	}
	for _, p := range desc.Partitions {
		fmt.Fprintf(out, "partition %d: offsets [%d, %d), %d bytes in %d segment(s)\n", p.Partition, p.StartOffset, p.EndOffset, p.Bytes, p.Segments)
	}
	return nil
}
