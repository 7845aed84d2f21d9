package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratalog/strata/partition"
)

// BenchmarkRoll measures Partition.Roll of a segment holding dirty=N MiB that were
// appended under SyncNone and not fsynced (dirty=0MiB: appended under
// SyncEveryAppend, so only the fixed cost is left: sealing the indexes, creating the
// next segment's files, fsyncing the directory and the checkpoint). Appends wait for
// a roll: it runs under the partition's append lock.
//
// It is in a file of its own so that it runs last: it fsyncs gigabytes, and the disk
// of a shared machine is slower for a while afterwards, which would skew whatever
// benchmark ran next.
func BenchmarkRoll(b *testing.B) {
	for _, dirtyMiB := range []int{0, 64} {
		b.Run(fmt.Sprintf("dirty=%dMiB", dirtyMiB), func(b *testing.B) {
			mode := partition.SyncNone
			if dirtyMiB == 0 {
				mode = partition.SyncEveryAppend
			}
			p := openPartition(b, appendOptions(mode, 0))
			records := makeRecords(1000, 100)
			size := encodedSize(b, records)
			batches := max(1, dirtyMiB<<20/size)
			ctx := context.Background()
			if dirtyMiB > 0 {
				b.SetBytes(int64(batches * size))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				for range batches {
					if _, err := p.Append(ctx, records); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := p.Roll(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
