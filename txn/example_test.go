package txn_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stratalog/strata/txn"
)

// printMarkers is a MarkerWriter that keeps the markers to print. The
// coordinator writes a transaction's markers concurrently, so they come in no
// particular order.
type printMarkers struct {
	mu    sync.Mutex
	lines []string
}

func (w *printMarkers) WriteMarker(ctx context.Context, m txn.Marker) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, fmt.Sprintf("marker %s producer %d epoch %d commit %v", m.Partition, m.ProducerID, m.ProducerEpoch, m.Commit))
	return nil
}

// print prints the markers written so far, sorted, and forgets them.
func (w *printMarkers) print() {
	w.mu.Lock()
	defer w.mu.Unlock()
	slices.Sort(w.lines)
	for _, line := range w.lines {
		fmt.Println(line)
	}
	w.lines = nil
}

func Example() {
	ctx := context.Background()
	markers := &printMarkers{}
	coord, err := txn.Open(ctx, &txn.Options{Markers: markers})
	if err != nil {
		panic(err)
	}
	defer coord.Close()

	p, _ := coord.InitProducerID(ctx, "copier", time.Minute, nil)
	fmt.Printf("producer %d epoch %d\n", p.ProducerID, p.ProducerEpoch)
	_ = coord.AddPartitionsToTxn(ctx, "copier", p, []txn.TopicPartition{{Topic: "out", Partition: 0}})
	_ = coord.AddOffsetsToTxn(ctx, "copier", p, "copier-group")
	r, _ := coord.EndTxn(ctx, "copier", p, true)
	markers.print()
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
