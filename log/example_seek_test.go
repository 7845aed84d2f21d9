package log_test

import (
	"context"
	"fmt"
	"time"

	"github.com/stratalog/strata/log"
)

// SeekToTime moves a consumer to the first record at or after a time (Kafka's
// offsetsForTimes): to replay from an hour ago, say.
func ExampleConsumer_SeekToTime() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "readings", log.TopicConfig{})
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 4 { // one reading an hour, from 09:00
		store.Produce(ctx, &log.Record{Topic: "readings", Timestamp: start.Add(time.Duration(i) * time.Hour), Value: fmt.Appendf(nil, "reading %d", i)})
	}

	consumer, _ := store.NewConsumer(log.ConsumerOptions{})
	defer consumer.Close()
	tp := log.TopicPartition{Topic: "readings", Partition: 0}
	consumer.Assign(tp)
	consumer.SeekToTime(tp, start.Add(90*time.Minute)) // 10:30: the first at or after is 11:00
	records, _ := consumer.Poll(ctx)
	for _, r := range records {
		fmt.Println(r.Offset, r.Timestamp.UTC().Format("15:04"), string(r.Value))
	}
	// Output:
	// 2 11:00 reading 2
	// 3 12:00 reading 3
}
