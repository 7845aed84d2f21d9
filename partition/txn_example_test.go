package partition_test

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// A transactional producer writes to a partition; the transaction coordinator ends
// the transaction with a marker. A reader in read_committed sees nothing of it
// until it commits, and nothing of an aborted one.
func ExampleReader_SetIsolationLevel() {
	ctx := context.Background()
	p, err := partition.Open("/data/payments-0", &partition.Options{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	txn := func(id int64, value string) {
		producer := &partition.Producer{ID: id, Transactional: true}
		if _, err := p.AppendWith(ctx, []partition.Record{{Value: []byte(value)}}, &partition.AppendOptions{Producer: producer}); err != nil {
			panic(err)
		}
	}
	txn(1, "debit")
	txn(2, "credit")
	fmt.Println("end", p.EndOffset(), "last stable", p.LastStableOffset())

	// The coordinator commits producer 1's transaction and aborts producer 2's.
	for _, m := range []partition.TxnMarker{
		{ProducerID: 1, Type: partition.MarkerCommit},
		{ProducerID: 2, Type: partition.MarkerAbort},
	} {
		if _, err := p.AppendTxnMarker(ctx, m); err != nil {
			panic(err)
		}
	}
	fmt.Println("end", p.EndOffset(), "last stable", p.LastStableOffset())

	r := p.NewReader(0, 0)
	if err := r.SetIsolationLevel(partition.ReadCommitted); err != nil {
		panic(err)
	}
	for {
		rec, err := r.TryNext()
		if err != nil || rec == nil {
			break
		}
		fmt.Println(rec.Offset, string(rec.Value))
	}
	// Output:
	// end 2 last stable 0
	// end 4 last stable 4
	// 0 debit
}
