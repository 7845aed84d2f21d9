package partition_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stratalog/strata/partition"
)

// A partition on its own is a durable queue: Append returns once the records are
// fsynced, and a Reader follows the log from any offset, waiting at its end.
func Example() {
	dir, _ := os.MkdirTemp("", "strata-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	p, err := partition.Open(filepath.Join(dir, "jobs-0"), nil) // nil: fsync every append
	if err != nil {
		panic(err)
	}
	first, err := p.Append(ctx, []partition.Record{
		{Key: []byte("job-1"), Value: []byte("resize photo")},
		{Key: []byte("job-2"), Value: []byte("send mail")},
	})
	fmt.Println("first offset", first, err)

	r := p.NewReader(0, 0) // from offset 0; 0: the default read size
	for range 2 {
		rec, err := r.Next(ctx) // waits for a record
		if err != nil {
			panic(err)
		}
		fmt.Println(rec.Offset, string(rec.Key), string(rec.Value))
	}
	fmt.Println(p.Close())

	p, _ = partition.Open(filepath.Join(dir, "jobs-0"), nil) // records survive
	defer p.Close()
	fmt.Println("end offset after reopen", p.EndOffset())
	// Output:
	// first offset 0 <nil>
	// 0 job-1 resize photo
	// 1 job-2 send mail
	// <nil>
	// end offset after reopen 2
}

// Read copies up to a number of records (or bytes) from an offset, without
// waiting; OffsetForTime finds the first record at or after a timestamp.
func ExamplePartition_Read() {
	dir, _ := os.MkdirTemp("", "strata-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	p, _ := partition.Open(dir, nil)
	defer p.Close()
	const start = 1_767_225_600_000 // 2026-01-01 00:00 UTC, in ms
	for i := range 5 {              // one event a second
		p.Append(ctx, []partition.Record{{Timestamp: start + int64(1000*i), Value: fmt.Appendf(nil, "event %d", i)}})
	}

	records, _ := p.Read(1, 2, 1<<20) // from offset 1, at most 2 records, 1 MiB
	for _, r := range records {
		fmt.Println(r.Offset, string(r.Value))
	}
	offset, found, _ := p.OffsetForTime(start + 2500) // 2.5 s in: event 3
	fmt.Println(offset, found)
	// Output:
	// 1 event 1
	// 2 event 2
	// 3 true
}

// Options.Sync trades durability for throughput: SyncPeriodic acknowledges before
// the fsync, which runs every EveryRecords records or every Interval; Sync then
// makes everything appended so far durable.
func ExampleSyncPolicy() {
	dir, _ := os.MkdirTemp("", "strata-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	p, _ := partition.Open(dir, &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncPeriodic, EveryRecords: 1000}})
	defer p.Close()
	p.Append(ctx, []partition.Record{{Value: []byte("metric")}})
	fmt.Println("durable below", p.DurableOffset())
	p.Sync(ctx)
	fmt.Println("durable below", p.DurableOffset())
	// Output:
	// durable below 0
	// durable below 1
}
