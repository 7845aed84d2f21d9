package partition_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// BenchmarkTxnMarkerWithOpenTransactions measures a transaction's end and the
// producer's next transaction (a COMMIT marker, then a transactional batch of one
// record) while open other transactions stay open: the last stable offset is
// recomputed over the producers at every marker.
//
// sync=none runs on the in-memory filesystem without fsync (the cost of the
// partition's own work); sync=every on the OS filesystem with SyncEveryAppend
// (what a marker costs an owner that waits for it to be durable).
func BenchmarkTxnMarkerWithOpenTransactions(b *testing.B) {
	for _, sync := range []string{"none", "every"} {
		for _, open := range []int{1, 1000} {
			b.Run(fmt.Sprintf("sync=%s/open=%d", sync, open), func(b *testing.B) {
				benchmarkTxnMarker(b, sync == "every", open)
			})
		}
	}
}

func benchmarkTxnMarker(b *testing.B, durable bool, open int) {
	opts := partition.Options{FS: vfs.NewMem(), Sync: partition.SyncPolicy{Mode: partition.SyncNone}}
	dir := partitionDir
	if durable {
		opts = partition.Options{FS: vfs.OS}
		dir = b.TempDir()
	}
	p, err := partition.Open(dir, &opts)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	sequences := make([]int32, open)
	begin := func(id int) {
		rs := []partition.Record{{Value: []byte("v")}}
		pr := &partition.Producer{ID: int64(id), BaseSequence: sequences[id], Transactional: true}
		if _, err := p.AppendWith(ctx, rs, &partition.AppendOptions{Producer: pr}); err != nil {
			b.Fatal(err)
		}
		sequences[id]++
	}
	for id := range open {
		begin(id)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		id := i % open
		if _, err := p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: int64(id), Type: partition.MarkerCommit}); err != nil {
			b.Fatal(err)
		}
		begin(id)
	}
	b.StopTimer()
	if got := p.LastStableOffset(); got < 0 {
		b.Fatal(got)
	}
}
