package log_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/stratalog/strata/log"
)

// Hooks report storage events, for metrics and tracing: here the segment rolls of
// a topic whose segments hold about two records, and the fsyncs of its appends. A
// hook runs on the goroutine that caused the event, possibly under a partition's
// lock: it must be quick and must not call the store.
func ExampleHooks() {
	dir, _ := os.MkdirTemp("", "strata-example-")
	defer os.RemoveAll(dir)
	var fsyncs atomic.Int64
	store, err := log.Open(dir, &log.Options{Hooks: log.Hooks{
		OnRoll: func(e log.RollEvent) {
			fmt.Printf("%s rolled: new segment from offset %d\n", e.TopicPartition, e.BaseOffset)
		},
		OnFsync: func(log.FsyncEvent) { fsyncs.Add(1) },
	}})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ctx := context.Background()
	store.CreateTopic(ctx, "audit", log.TopicConfig{SegmentBytes: 150})
	for i := range 5 {
		store.Produce(ctx, &log.Record{Topic: "audit", Value: fmt.Appendf(nil, "entry %d", i)})
	}
	fmt.Println(fsyncs.Load() > 0)
	// Output:
	// audit-0 rolled: new segment from offset 2
	// audit-0 rolled: new segment from offset 4
	// true
}
