package log_test

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/log"
)

func ExampleStore_ListTransactions() {
	store, cleanup := exampleStore()
	defer cleanup()
	ctx := context.Background()
	if err := store.CreateTopic(ctx, "out", log.TopicConfig{Partitions: 1}); err != nil {
		panic(err)
	}
	p, err := store.NewProducer(log.ProducerOptions{TransactionalID: "copier"})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	if err := p.BeginTransaction(); err != nil {
		panic(err)
	}
	if err := p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("v")}).FirstErr(); err != nil {
		panic(err)
	}

	list, _ := store.ListTransactions()
	for _, l := range list {
		fmt.Println(l.TransactionalID, l.State)
	}
	d, _ := store.DescribeTransaction("copier")
	fmt.Println(d.State, d.Partitions)
	producers, _ := store.DescribeProducers(log.TopicPartition{Topic: "out", Partition: 0})
	fmt.Println(producers[0].CurrentTxnFirstOffset) // the open transaction's first offset

	if err := p.CommitTransaction(ctx); err != nil {
		panic(err)
	}
	d, _ = store.DescribeTransaction("copier")
	fmt.Println(d.State, d.Partitions)
	hanging, _ := store.FindHangingTransactions(0)
	fmt.Println(len(hanging))
	// Output:
	// copier Ongoing
	// Ongoing [out-0]
	// 0
	// CompleteCommit []
	// 0
}
