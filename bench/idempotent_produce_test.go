package bench

import (
	"fmt"
	"testing"

	"github.com/stratalog/strata/log"
)

// BenchmarkIdempotentProduce measures a Producer (api=async, 1000 records of 100 B
// per op, default BatchBytes and Linger) idempotent (idempotence=on, the default:
// each batch carries the producer id, epoch and sequence, which the partition
// checks) against the same producer with DisableIdempotence (idempotence=off, the
// baseline, measured in the same run). Issue 14's goal: on >= 0.95x off. Run the
// two alternately in several processes (bench/README.md) rather than with -count,
// which runs each sub-benchmark's rounds back to back.
func BenchmarkIdempotentProduce(b *testing.B) {
	for _, sm := range logSyncModes {
		for _, partitions := range []int{1, 4} {
			for _, idempotence := range []string{"off", "on"} {
				name := fmt.Sprintf("api=async/partitions=%d/sync=%s/idempotence=%s", partitions, sm.name, idempotence)
				b.Run(name, func(b *testing.B) {
					benchAsyncProduceWith(b, partitions, sm.mode, log.ProducerOptions{DisableIdempotence: idempotence == "off"})
				})
			}
		}
	}
}
