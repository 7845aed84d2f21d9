package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/partition"
)

// openCommitCoordinator returns a coordinator whose offsets live in a partition
// (the defaults: SyncEveryAppend) in a fresh b.TempDir().
func openCommitCoordinator(b *testing.B) (*group.Coordinator, *partition.Partition) {
	b.Helper()
	p := openPartition(b, nil)
	store, err := group.NewPartitionOffsetStore(p)
	if err != nil {
		b.Fatal(err)
	}
	c, err := group.NewCoordinator(&group.Options{Offsets: store})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c, p
}

// commitOffsets returns a commit of n partitions of "orders".
func commitOffsets(n int) map[group.TopicPartition]group.OffsetAndMetadata {
	offsets := make(map[group.TopicPartition]group.OffsetAndMetadata, n)
	for i := range n {
		offsets[group.TopicPartition{Topic: "orders", Partition: int32(i)}] = group.OffsetAndMetadata{Offset: 1_000_000 + int64(i)}
	}
	return offsets
}

// BenchmarkGroupCommit measures synchronous, durable offset commits
// (Coordinator.CommitOffsets into a PartitionOffsetStore under SyncEveryAppend):
// each op is one commit of `partitions` offsets, acknowledged once fsynced, from
// `committers` goroutines each committing for a group of its own (commits of one
// group are serialized; those of different groups share fsyncs). commits/s is the
// figure; fsyncs/commit shows the sharing. See BenchmarkGroupCommitBaseline for the
// same appends without the coordinator.
func BenchmarkGroupCommit(b *testing.B) {
	for _, tc := range []struct{ partitions, committers int }{
		{1, 1}, {16, 1}, {256, 1}, {1, 8}, {16, 8}, {1, 64},
	} {
		b.Run(fmt.Sprintf("partitions=%d/committers=%d", tc.partitions, tc.committers), func(b *testing.B) {
			c, p := openCommitCoordinator(b)
			ctx := context.Background()
			offsets := commitOffsets(tc.partitions)
			b.ReportAllocs()
			syncsBefore := p.Stats().Syncs
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range tc.committers {
				req := group.CommitRequest{Group: fmt.Sprintf("group-%d", w), Generation: -1, Offsets: offsets}
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := c.CommitOffsets(ctx, req); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
			b.ReportMetric(float64(b.N*tc.partitions)/b.Elapsed().Seconds(), "offsets/s")
			b.ReportMetric(float64(p.Stats().Syncs-syncsBefore)/float64(b.N), "fsyncs/commit")
		})
	}
}

// BenchmarkGroupCommitBaseline is the floor of BenchmarkGroupCommit: the same
// records (Kafka's offset commit keys and values for `partitions` partitions,
// encoded once, outside the loop) appended with Partition.Append under
// SyncEveryAppend, one append per op, without the coordinator.
func BenchmarkGroupCommitBaseline(b *testing.B) {
	for _, partitions := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("partitions=%d", partitions), func(b *testing.B) {
			// Encode the records through a store on a scratch partition: its log holds
			// exactly what a commit writes.
			scratch := openPartition(b, &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
			store, err := group.NewPartitionOffsetStore(scratch)
			if err != nil {
				b.Fatal(err)
			}
			c, err := group.NewCoordinator(&group.Options{Offsets: store})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			if err := c.CommitOffsets(ctx, group.CommitRequest{Group: "group-0", Generation: -1, Offsets: commitOffsets(partitions)}); err != nil {
				b.Fatal(err)
			}
			records, err := scratch.Read(0, 0, 1<<20)
			if err != nil || len(records) != partitions {
				b.Fatalf("read %d records of %d: %v", len(records), partitions, err)
			}
			p := openPartition(b, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := p.Append(ctx, records); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
