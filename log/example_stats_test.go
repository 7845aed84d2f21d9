package log_test

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/log"
)

// Stats is a snapshot of every topic's partitions: their offsets, size and
// counters since the store opened, to export as metrics.
func ExampleStore_Stats() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 2})
	for range 3 {
		store.Produce(ctx, &log.Record{Topic: "orders", Partition: 1, ExplicitPartition: true, Value: []byte("order")})
	}

	for _, topic := range store.Stats().Topics {
		for _, p := range topic.Partitions {
			fmt.Printf("%s: offsets [%d, %d), %d segment, %d records appended in %d batches\n",
				p.TopicPartition, p.StartOffset, p.EndOffset, p.Segments, p.AppendedRecords, p.Appends)
		}
	}
	// Output:
	// orders-0: offsets [0, 0), 1 segment, 0 records appended in 0 batches
	// orders-1: offsets [0, 3), 1 segment, 3 records appended in 3 batches
}
