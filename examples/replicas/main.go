// Command replicas runs a store of three brokers (three directories: in practice,
// three disks) with a topic of three replicas, then loses a broker in the middle of
// a stream: the partitions it led elect in-sync replicas, producing and consuming go
// on, the broker comes back and catches up, and leadership returns to it.
//
//	go run ./examples/replicas               # in a temporary directory
//	go run ./examples/replicas --dir data    # keep the store in ./data
//
// The same with the CLI: strata init --brokers 3; strata topics create orders
// --partitions 3 --replication-factor 3 --config min.insync.replicas=2.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed at exit)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "strata-replicas-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "replicas:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// run makes (or reopens) the store in dir and plays the failover, writing what
// happens to out.
func run(ctx context.Context, dir string, out io.Writer) error {
	if err := vfs.MkdirAllSync(vfs.OS, dir); err != nil {
		return err
	}
	// Three brokers: dir itself, dir/broker.1 and dir/broker.2. InitBrokers refuses a
	// directory that holds a store already; a second run reuses it.
	if _, err := os.Stat(dir + "/meta.properties"); os.IsNotExist(err) {
		if err := log.InitBrokers(vfs.OS, dir, map[replica.BrokerID]string{0: "", 1: "", 2: ""}); err != nil {
			return err
		}
	}
	store, err := log.Open(dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.DescribeTopic("orders"); err != nil {
		// acks=all needs two in-sync replicas: one broker may fail without losing
		// an acknowledged record or refusing a write.
		if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3, MinInsyncReplicas: 2}); err != nil {
			return err
		}
	}
	describe := func(when string) error {
		d, err := store.DescribeTopic("orders")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s:\n", when)
		for _, p := range d.Partitions {
			fmt.Fprintf(out, "  partition %d: leader %d, replicas %s, in sync %s, %d records\n",
				p.Partition, p.Leader, replica.FormatBrokers(p.Replicas), replica.FormatBrokers(p.ISR), p.EndOffset)
		}
		return nil
	}
	produce := func(first, n int) error {
		for i := first; i < first+n; i++ {
			r := &log.Record{Topic: "orders", Key: fmt.Appendf(nil, "order-%d", i), Value: fmt.Appendf(nil, "order %d", i)}
			if err := store.Produce(ctx, r); err != nil { // acks=all: every in-sync replica has it
				return err
			}
		}
		return nil
	}
	if err := produce(0, 30); err != nil {
		return err
	}
	if err := describe("three brokers"); err != nil {
		return err
	}
	fmt.Fprintln(out, "broker 1 stops (a disk pulled, a crash)")
	if err := store.StopBroker(1); err != nil {
		return err
	}
	if err := describe("after the failover"); err != nil {
		return err
	}
	if err := produce(30, 30); err != nil {
		return err
	}
	fmt.Fprintln(out, "30 more orders written with broker 1 down")
	if err := store.StartBroker(1); err != nil {
		return err
	}
	// Broker 1's replicas copy what they missed from the leaders, and rejoin.
	if err := store.AwaitInSync(ctx); err != nil {
		return err
	}
	moved, err := store.ElectPreferredLeaders()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "broker 1 is back and in sync; %d leadership(s) moved back to it\n", moved)
	total := 0
	d, err := store.DescribeTopic("orders")
	if err != nil {
		return err
	}
	for _, p := range d.Partitions {
		total += int(p.EndOffset)
	}
	fmt.Fprintf(out, "%d orders stored, none lost\n", total)
	return nil
}
