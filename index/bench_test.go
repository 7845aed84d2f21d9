package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLookup measures OffsetIndex.Lookup at random offsets over index sizes from
// a small segment to a full default index (10 MiB, 1,310,720 entries).
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{16, 4096, 131072, DefaultMaxBytes / OffsetEntrySize} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			const base = 368769
			x, _ := createOffsetIndex(b, base, nil)
			for i := range int64(n) {
				// One entry per batch of 10 records and ~3 KiB (a full default index
				// then spans just under the 4 GiB a position can address).
				if err := x.Append(base+i*10+9, i*3000); err != nil {
					b.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			targets := make([]int64, 4096)
			for i := range targets {
				targets[i] = base + rng.Int64N(int64(n)*10)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var sink int64
			for i := 0; b.Loop(); i++ {
				_, position := x.Lookup(targets[i&(len(targets)-1)])
				sink += position
			}
			_ = sink
		})
	}
}

// BenchmarkLookupBefore measures TimeIndex.LookupBefore at random timestamps.
func BenchmarkLookupBefore(b *testing.B) {
	for _, n := range []int{16, 4096, DefaultMaxBytes / TimeEntrySize} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			x, _ := createTimeIndex(b, 0, nil)
			for i := range int64(n) {
				if err := x.MaybeAppend(1_700_000_000_000+i*37, i*10); err != nil {
					b.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			targets := make([]int64, 4096)
			for i := range targets {
				targets[i] = 1_700_000_000_000 + rng.Int64N(int64(n)*37)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var sink int64
			for i := 0; b.Loop(); i++ {
				_, offset, _ := x.LookupBefore(targets[i&(len(targets)-1)])
				sink += offset
			}
			_ = sink
		})
	}
}
