package log_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/stratalog/strata/log"
)

// Rebuilding a table from a compacted topic at start-up: poll until CaughtUp,
// then serve. Poll waits for records, and a partition read to its end (or empty,
// as one of these two) has none: each Poll gets a deadline, after which the loop
// asks CaughtUp again.
func ExampleGroupConsumer_CaughtUp() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "prices", log.TopicConfig{Partitions: 2, CleanupPolicy: log.CleanupCompact})
	for _, kv := range [][2]string{{"book", "12"}, {"pen", "3"}, {"book", "11"}} {
		store.Produce(ctx, &log.Record{Topic: "prices", Partition: 0, ExplicitPartition: true, Key: []byte(kv[0]), Value: []byte(kv[1])})
	}

	member, err := store.NewGroupConsumer(log.GroupConsumerOptions{Group: "pricing", Topics: []string{"prices"}})
	if err != nil {
		panic(err)
	}
	defer member.Close()
	table := map[string]string{}
	for {
		caughtUp, err := member.CaughtUp()
		if err != nil {
			panic(err)
		}
		if caughtUp {
			break
		}
		pollCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		records, err := member.Poll(pollCtx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			panic(err)
		}
		for _, r := range records {
			if r.Value == nil {
				delete(table, string(r.Key)) // a tombstone
				continue
			}
			table[string(r.Key)] = string(r.Value)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(table)) {
		fmt.Println(key, table[key])
	}
	// Output:
	// book 11
	// pen 3
}
