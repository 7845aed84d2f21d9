package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratalog/strata/internal/benchreport"
	"github.com/stratalog/strata/partition"
)

// BenchmarkIdempotentAppend measures Partition.AppendWith of one batch per op carrying
// a producer identity (producer=idempotent: the sequence check against the
// producer's state and its update) against the same batches appended plainly
// (producer=none, the baseline, measured in the same run). Issue 14's goal:
// idempotent >= 0.95x plain. Rolls are kept out of the timed loop (rollEveryBytes);
// a roll also writes a producer snapshot, which BenchmarkRoll covers.
func BenchmarkIdempotentAppend(b *testing.B) {
	for _, sync := range []string{"none", "every-append"} {
		for _, batch := range []int{1, 100, 1000} {
			if sync == "every-append" && batch == 100 {
				continue
			}
			for _, producer := range []string{"none", "idempotent"} {
				b.Run(fmt.Sprintf("batch=%d/value=100/sync=%s/producer=%s", batch, sync, producer), func(b *testing.B) {
					p := openPartition(b, appendOptions(syncModes[sync], 0))
					benchmarkIdempotentAppend(b, p, makeRecords(batch, 100), producer == "idempotent")
				})
			}
		}
	}
}

func benchmarkIdempotentAppend(b *testing.B, p *partition.Partition, records []partition.Record, idempotent bool) {
	ctx := context.Background()
	size := encodedSize(b, records)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	roller := untimedRoller{p: p}
	producer := &partition.Producer{ID: 1, Epoch: 0}
	o := &partition.AppendOptions{}
	if idempotent {
		o.Producer = producer
	}
	allocsBefore := benchreport.Mallocs()
	for b.Loop() {
		if _, err := p.AppendWith(ctx, records, o); err != nil {
			b.Fatal(err)
		}
		producer.BaseSequence += int32(len(records))
		roller.appended(b, size)
	}
	benchreport.Records(b, int64(b.N)*int64(len(records)), allocsBefore)
}
