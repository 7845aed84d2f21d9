package log_test

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/log"
)

// A compacted topic keeps at least the latest record of each key, as a table's
// changelog: compaction removes the records a later one of the same key
// superseded, and a record with a nil value (a tombstone) deletes its key; the
// tombstone itself stays for the topic's DeleteRetention (default 24 h), so that
// consumers see the delete. The active segment is never compacted; here each
// record fills a segment of its own.
func ExampleStore_Compact() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "users", log.TopicConfig{CleanupPolicy: log.CleanupCompact, SegmentBytes: 1})
	for _, kv := range [][2]string{{"u1", "ann"}, {"u2", "bob"}, {"u1", "anne"}, {"u3", "cy"}, {"u2", ""}, {"u4", "dee"}} {
		var value []byte // "": a tombstone
		if kv[1] != "" {
			value = []byte(kv[1])
		}
		store.Produce(ctx, &log.Record{Topic: "users", Key: []byte(kv[0]), Value: value})
	}

	compacted, err := store.Compact(ctx)
	fmt.Println("partitions compacted:", compacted, err)

	consumer, _ := store.NewConsumer(log.ConsumerOptions{})
	defer consumer.Close()
	consumer.Assign(log.TopicPartition{Topic: "users"})
	records, _ := consumer.Poll(ctx)
	for _, r := range records {
		fmt.Printf("%d %s=%q\n", r.Offset, r.Key, r.Value)
	}
	// Output:
	// partitions compacted: 1 <nil>
	// 2 u1="anne"
	// 3 u3="cy"
	// 4 u2=""
	// 5 u4="dee"
}
