// Package benchreport holds the metrics every strata benchmark reports, shared by the
// core suite (bench/) and the comparison with peers (bench/compare/).
package benchreport

import (
	"runtime"
	"testing"
)

// Mallocs returns the number of heap allocations of the process so far.
func Mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// Records reports records/s and ns/record for records moved during the timed part of
// the benchmark, and allocs/record for the allocations of the whole process since
// allocsBefore (a Mallocs reading taken just before the loop).
func Records(b *testing.B, records int64, allocsBefore uint64) {
	allocs := Mallocs() - allocsBefore
	if records == 0 || b.Elapsed() <= 0 {
		return
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
	b.ReportMetric(float64(allocs)/float64(records), "allocs/record")
}
