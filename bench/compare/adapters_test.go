package compare

import (
	"bytes"
	"testing"
)

// TestAdapters checks, on a small log, that every library's adapter reads back
// what was written, in order and by position: a benchmark that silently read
// nothing, or the wrong records, would report a wonderful figure. It runs without
// -bench, in a few seconds.
func TestAdapters(t *testing.T) {
	const records, batch, segmentRecords = 2000, 100, 500
	values := makeValues(batch, valueSize)
	for _, l := range libs {
		t.Run("lib="+l.name, func(t *testing.T) {
			s := openLib(t, l, config{fixture: true, maxBatchRecords: batch, segmentRecords: segmentRecords})
			fill(t, s, records, batch)
			if r, ok := s.(sequentialReader); ok {
				n, err := r.readAll(records)
				if err != nil || n != records*valueSize {
					t.Fatalf("readAll: %d value bytes, %v; want %d", n, err, records*valueSize)
				}
			}
			if g, ok := s.(getter); ok {
				for _, i := range []int64{0, 1, 99, 100, 499, 500, 1234, records - 1} {
					got, err := g.get(i)
					if err != nil || !bytes.Equal(got, values[i%batch]) {
						t.Fatalf("get(%d) = %x…, %v; want the value written at %d", i, got[:min(len(got), 8)], err, i)
					}
				}
			}
			// NATS chooses its block size itself (8 MiB here: one block).
			if c, ok := s.(segmentCounter); ok && l.name != "nats-jetstream" && c.segments() < records/segmentRecords {
				t.Errorf("%d segments, want at least %d", c.segments(), records/segmentRecords)
			}
		})
	}
}
