package log_test

import (
	"context"
	"fmt"
	"os"

	"github.com/stratalog/strata/log"
)

// exampleStore opens a store in a fresh temporary directory.
func exampleStore() (*log.Store, func()) {
	dir, err := os.MkdirTemp("", "strata-example-")
	if err != nil {
		panic(err)
	}
	store, err := log.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	return store, func() {
		store.Close()
		os.RemoveAll(dir)
	}
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "strata-example-")
	defer os.RemoveAll(dir)

	store, err := log.Open(dir, nil) // nil: the defaults
	if err != nil {
		panic(err)
	}
	defer store.Close()

	_, err = log.Open(dir, nil) // one store per directory
	fmt.Println(err != nil)
	// Output: true
}

func ExampleStore_CreateTopic() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()

	err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3, Compression: log.CompressionZstd})
	fmt.Println(err)
	topic, _ := store.DescribeTopic("orders")
	fmt.Println(len(topic.Partitions), topic.Config.Compression, topic.Config.CleanupPolicy)

	err = store.CreateTopic(ctx, "bad", log.TopicConfig{SegmentBytes: -1, CleanupPolicy: "archive"})
	fmt.Println(err)
	// Output:
	// <nil>
	// 3 zstd delete
	// strata/log: invalid config for "bad": SegmentBytes: -1 not in [1, 2147483647] (0: default); CleanupPolicy: "archive": want "delete", "compact" or "compact,delete"
}

func ExampleStore_Produce() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: 3})

	records := []*log.Record{
		{Topic: "orders", Key: []byte("customer-7"), Value: []byte("order 1")},
		{Topic: "orders", Key: []byte("customer-7"), Value: []byte("order 2")},
		{Topic: "orders", Partition: 2, ExplicitPartition: true, Value: []byte("audit")},
	}
	if err := store.Produce(ctx, records...); err != nil {
		panic(err)
	}
	for _, r := range records {
		fmt.Printf("%s partition %d offset %d\n", r.Value, r.Partition, r.Offset)
	}
	fmt.Println(log.KeyPartition([]byte("customer-7"), 3) == int(records[0].Partition))
	// Output:
	// order 1 partition 1 offset 0
	// order 2 partition 1 offset 1
	// audit partition 2 offset 0
	// true
}

func ExampleConsumer_Poll() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "events", log.TopicConfig{})
	for i := range 3 {
		store.Produce(ctx, &log.Record{Topic: "events", Value: fmt.Appendf(nil, "event %d", i)})
	}

	consumer, _ := store.NewConsumer(log.ConsumerOptions{MaxPollRecords: 2})
	defer consumer.Close()
	consumer.Assign(log.TopicPartition{Topic: "events", Partition: 0})
	for range 2 {
		records, err := consumer.Poll(ctx) // waits until there is a record
		if err != nil {
			panic(err)
		}
		for _, r := range records {
			fmt.Println(r.Offset, string(r.Value))
		}
	}
	consumer.Seek(log.TopicPartition{Topic: "events"}, 1) // replay
	records, _ := consumer.Poll(ctx)
	fmt.Println("replayed", string(records[0].Value))
	// Output:
	// 0 event 0
	// 1 event 1
	// 2 event 2
	// replayed event 1
}

func ExampleProducer() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "metrics", log.TopicConfig{})

	producer, _ := store.NewProducer(log.ProducerOptions{}) // batches, acks durable
	offsets := make([]int64, 3)
	for i := range offsets {
		producer.Produce(ctx, &log.Record{Topic: "metrics", Value: []byte("sample")}, func(r *log.Record, err error) {
			if err != nil {
				panic(err)
			}
			offsets[i] = r.Offset
		})
	}
	if err := producer.Flush(ctx); err != nil { // every promise has run
		panic(err)
	}
	fmt.Println(offsets)
	producer.Close()
	// Output: [0 1 2]
}

// Store.Sync makes everything produced so far durable, whatever the topic's sync
// policy, and records how far each partition was fsynced (recovery-points.checkpoint),
// so that after a power loss any of those records found missing is an error, never a
// shorter log.
func ExampleStore_Sync() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()

	lazy := log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncNone}} // the OS flushes
	if err := store.CreateTopic(ctx, "metrics", lazy); err != nil {
		panic(err)
	}
	for i := range 3 {
		if err := store.Produce(ctx, &log.Record{Topic: "metrics", Value: fmt.Appendf(nil, "sample %d", i)}); err != nil {
			panic(err)
		}
	}
	fmt.Println(store.Sync(ctx)) // all three survive a power loss from here on
	// Output: <nil>
}
