// Package bench holds strata's benchmarks: appends (batched, fsynced, concurrent),
// reads (record by record and raw batches), lookups by offset and by time, and a
// baseline of plain file writes measured in the same run. It has no API; run
//
//	go test -bench . -benchmem -run '^$' ./bench/
//
// and see README.md for the figures measured on the reference machine and what they
// are compared with.
//
// Conventions: sub-benchmarks are named key=value; MB/s counts the bytes of encoded
// batches (what is written to or read from the .log files), not only record values;
// records/s, ns/record and allocs/record are reported for every benchmark that moves
// records; data lives in b.TempDir() on the OS filesystem.
package bench
