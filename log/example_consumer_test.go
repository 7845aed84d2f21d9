package log_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/stratalog/strata/log"
)

// A table rebuilt from a compacted topic at start-up: TryNext reads without copying
// (the table keeps a copy of what it needs) and returns nil once every record
// produced so far is read. A record with a nil value (a tombstone) deletes its key.
func ExampleConsumer_TryNext() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	_ = store.CreateTopic(ctx, "prices", log.TopicConfig{Partitions: 2, CleanupPolicy: "compact"})
	for _, kv := range [][2]string{{"apple", "3"}, {"pear", "5"}, {"apple", "4"}, {"plum", "2"}} {
		_ = store.Produce(ctx, &log.Record{Topic: "prices", Key: []byte(kv[0]), Value: []byte(kv[1])})
	}
	_ = store.Produce(ctx, &log.Record{Topic: "prices", Key: []byte("plum")}) // deleted

	c, _ := store.NewConsumer(log.ConsumerOptions{})
	defer c.Close()
	_ = c.AssignTopics("prices") // every partition
	table := map[string][]byte{}
	for {
		r, err := c.TryNext()
		if err != nil {
			panic(err)
		}
		if r == nil {
			break // caught up
		}
		if r.Value == nil { // a tombstone
			delete(table, string(r.Key))
			continue
		}
		table[string(r.Key)] = bytes.Clone(r.Value) // r is reused by the next call
	}
	caughtUp, _ := c.CaughtUp()
	fmt.Printf("%d keys: apple=%s pear=%s caught up: %v\n", len(table), table["apple"], table["pear"], caughtUp)
	// Output: 2 keys: apple=4 pear=5 caught up: true
}

func ExampleStore_ListOffsetsForTime() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	_ = store.CreateTopic(ctx, "events", log.TopicConfig{})
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for i := range 4 {
		_ = store.Produce(ctx, &log.Record{Topic: "events", Value: []byte("e"), Timestamp: t0.Add(time.Duration(i) * time.Hour)})
	}
	start, _ := store.ListStartOffsets("events")
	end, _ := store.ListEndOffsets("events")
	at, _ := store.ListOffsetsForTime(t0.Add(90*time.Minute), "events")
	later, _ := store.ListOffsetsForTime(t0.Add(24*time.Hour), "events")
	tp := log.TopicPartition{Topic: "events"}
	fmt.Println(start[tp], end[tp], at[tp], later[tp])
	// Output: 0 4 2 4
}

func ExampleProducer_ProduceSync() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	_ = store.CreateTopic(ctx, "orders", log.TopicConfig{})
	producer, _ := store.NewProducer(log.ProducerOptions{})
	defer producer.Close()

	results := producer.ProduceSync(ctx,
		&log.Record{Topic: "orders", Value: []byte("book")},
		&log.Record{Topic: "orders", Value: []byte("pen")})
	fmt.Println(results.FirstErr(), results[1].Record.Offset)

	results = producer.ProduceSync(ctx, &log.Record{Topic: "no-such-topic"})
	fmt.Println(results.FirstErr() != nil)
	// Output:
	// <nil> 1
	// true
}
