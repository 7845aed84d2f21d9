package group_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// A transactional producer commits a consumer's offsets in its transaction: they
// are pending until the transaction coordinator writes the COMMIT marker to the
// offsets partition.
func ExampleCoordinator_TxnCommitOffsets() {
	ctx := context.Background()
	store, err := group.OpenPartitionOffsetStore("/offsets", &partition.Options{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	coord, err := group.NewCoordinator(&group.Options{Offsets: store, Metadata: topics{"orders": 1}})
	if err != nil {
		panic(err)
	}
	defer coord.Close()

	orders := group.TopicPartition{Topic: "orders", Partition: 0}
	err = coord.TxnCommitOffsets(ctx, group.TxnCommitRequest{
		Group: "copier", ProducerID: 7, ProducerEpoch: 0, Generation: -1,
		Offsets: map[group.TopicPartition]group.OffsetAndMetadata{orders: {Offset: 42}},
	})
	if err != nil {
		panic(err)
	}
	offsets, _ := coord.FetchOffsets(ctx, "copier", nil)
	_, err = coord.FetchStableOffsets(ctx, "copier", nil)
	fmt.Println("before the marker:", len(offsets), "offsets;", errors.Is(err, group.ErrUnstableOffsetCommit))

	// What the transaction coordinator's EndTxn does to the offsets partition.
	err = store.WriteTxnMarker(ctx, partition.TxnMarker{ProducerID: 7, ProducerEpoch: 1, Type: partition.MarkerCommit, TransactionVersion: 2})
	if err != nil {
		panic(err)
	}
	offsets, _ = coord.FetchStableOffsets(ctx, "copier", nil)
	fmt.Println("after the marker:", offsets[orders].Offset)
	// Output:
	// before the marker: 0 offsets; true
	// after the marker: 42
}
