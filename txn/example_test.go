package txn_test

import (
	"context"
	"fmt"
	"time"

	"github.com/stratalog/strata/txn"
)

// printMarkers is a MarkerWriter that prints the markers.
type printMarkers struct{}

func (printMarkers) WriteMarker(ctx context.Context, m txn.Marker) error {
	fmt.Printf("marker %s producer %d epoch %d commit %v\n", m.Partition, m.ProducerID, m.ProducerEpoch, m.Commit)
	return nil
}

func Example() {
	ctx := context.Background()
	coord, err := txn.Open(ctx, &txn.Options{Markers: printMarkers{}})
	if err != nil {
		panic(err)
	}
	defer coord.Close()

	p, _ := coord.InitProducerID(ctx, "copier", time.Minute, nil)
	fmt.Printf("producer %d epoch %d\n", p.ProducerID, p.ProducerEpoch)
	_ = coord.AddPartitionsToTxn(ctx, "copier", p, []txn.TopicPartition{{Topic: "out", Partition: 0}})
	_ = coord.AddOffsetsToTxn(ctx, "copier", p, "copier-group")
	r, _ := coord.EndTxn(ctx, "copier", p, true)
	fmt.Printf("next transaction: epoch %d\n", r.ProducerEpoch)

	// A second instance fences the first: its requests are refused.
	_, _ = coord.InitProducerID(ctx, "copier", time.Minute, nil)
	err = coord.AddPartitionsToTxn(ctx, "copier", r.ProducerIDAndEpoch, []txn.TopicPartition{{Topic: "out", Partition: 0}})
	fmt.Println(err)
	// Output:
	// producer 0 epoch 0
	// marker __consumer_offsets-0 producer 0 epoch 1 commit true
	// marker out-0 producer 0 epoch 1 commit true
	// next transaction: epoch 1
	// strata/txn: producer fenced
}
