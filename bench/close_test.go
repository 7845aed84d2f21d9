package bench

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stratalog/strata/partition"
)

// BenchmarkCloseAfterAppend measures Partition.Close of a partition that took one
// batch since it opened (under SyncNone, so that Close's own fsyncs are the cost):
// sealing the active segment, the clean checkpoint and, since issue 14, the
// producer snapshot at the log end. Each op opens a partition in a new directory
// and appends outside the timer.
func BenchmarkCloseAfterAppend(b *testing.B) {
	records := makeRecords(10, 100)
	parent := b.TempDir()
	opts := &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		p, err := partition.Open(filepath.Join(parent, strconv.Itoa(i)), opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Append(context.Background(), records); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
