package log_test

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/log"
)

// A group consumer shares a topic's partitions with the group's other members and
// keeps its position in committed offsets: a member that joins later, here after
// the first one closed, starts where the group stopped.
func ExampleGroupConsumer() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	store.CreateTopic(ctx, "orders", log.TopicConfig{})
	for _, v := range []string{"book", "pen", "ink"} {
		store.Produce(ctx, &log.Record{Topic: "orders", Value: []byte(v)})
	}

	member, err := store.NewGroupConsumer(log.GroupConsumerOptions{Group: "billing", Topics: []string{"orders"}})
	if err != nil {
		panic(err)
	}
	records, err := member.Poll(ctx) // waits for the group to assign partitions
	if err != nil {
		panic(err)
	}
	for _, r := range records {
		fmt.Println("billed", string(r.Value))
	}
	if err := member.CommitRecords(ctx, records...); err != nil { // processed: commit
		panic(err)
	}
	member.Close()

	store.Produce(ctx, &log.Record{Topic: "orders", Value: []byte("lamp")})
	next, _ := store.NewGroupConsumer(log.GroupConsumerOptions{Group: "billing", Topics: []string{"orders"}})
	defer next.Close()
	records, _ = next.Poll(ctx)
	fmt.Println("then", string(records[0].Value), "at offset", records[0].Offset)
	// Output:
	// billed book
	// billed pen
	// billed ink
	// then lamp at offset 3
}
