package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalog/strata/internal/benchreport"
	"github.com/stratalog/strata/log"
)

// fillTopic writes total 100 B records spread over the partitions of topic "t".
func fillTopic(b *testing.B, s *log.Store, partitions, total int) {
	records := logRecords(1000, partitions)
	ctx := context.Background()
	for range total / 1000 {
		if err := s.Produce(ctx, records...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupConsume measures consuming a 16-partition topic of 1,024,000 records
// (100 B values) with four members of one group, each on its own goroutine, against
// a plain Consumer assigned all 16 partitions (consumers=plain) in the same run. Each
// op is a new group (or a plain consumer seeking to the start) reading everything;
// the group joins and settles (4 partitions each) before the timer starts, since
// records read before a rebalance moves their partition are read again by the new
// owner; commits are off.
func BenchmarkGroupConsume(b *testing.B) {
	const partitions, total = 16, 1_024_000
	s := openStore(b, partitions, log.SyncNone)
	fillTopic(b, s, partitions, total)
	ctx := context.Background()

	b.Run("consumers=plain", func(b *testing.B) { benchPlainConsume(b, s, partitions, total) })

	b.Run("consumers=group/members=4", func(b *testing.B) {
		b.SetBytes(total * 100)
		b.ReportAllocs()
		allocs := benchreport.Mallocs()
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			var (
				read    atomic.Int64
				wg      sync.WaitGroup
				members []*log.GroupConsumer
			)
			cctx, cancel := context.WithCancel(ctx)
			for range 4 {
				g, err := s.NewGroupConsumer(log.GroupConsumerOptions{
					Group: fmt.Sprint("bench-", i), Topics: []string{"t"}, DisableAutoCommit: true,
					HeartbeatInterval: 10 * time.Millisecond, SessionTimeout: 6 * time.Second,
				})
				if err != nil {
					b.Fatal(err)
				}
				members = append(members, g)
			}
			waitSettled(b, members, partitions)
			b.StartTimer()
			for _, g := range members {
				wg.Go(func() {
					for read.Load() < total {
						records, err := g.Poll(cctx)
						if err != nil {
							return
						}
						if read.Add(int64(len(records))) >= total {
							cancel()
						}
					}
				})
			}
			wg.Wait()
			cancel()
			b.StopTimer()
			if got := read.Load(); got != total {
				b.Fatalf("read %d records, want %d (a partition read twice or not at all)", got, total)
			}
			for _, g := range members {
				if err := g.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		b.StopTimer()
		benchreport.Records(b, int64(b.N)*total, allocs)
	})
}

// BenchmarkRebalance measures how long a group of 4 members over 16 partitions
// takes, after a fifth member joins (event=join) or one member leaves with Close
// (event=leave), until every partition is owned again by exactly one member. Members
// heartbeat every 10 ms: members learn of a rebalance at their next heartbeat, so
// the interval bounds the figure (Kafka's default is 3 s). A member that dies
// without leaving is noticed after its session timeout (at least 6 s), plus this.
func BenchmarkRebalance(b *testing.B) {
	const partitions = 16
	s := openStore(b, partitions, log.SyncNone)
	opts := func(group string) log.GroupConsumerOptions {
		return log.GroupConsumerOptions{Group: group, Topics: []string{"t"}, DisableAutoCommit: true, HeartbeatInterval: 10 * time.Millisecond, SessionTimeout: 6 * time.Second}
	}
	for _, event := range []string{"join", "leave"} {
		b.Run("event="+event, func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				b.StopTimer()
				var members []*log.GroupConsumer
				for range 4 {
					g, err := s.NewGroupConsumer(opts(fmt.Sprint(event, "-", i)))
					if err != nil {
						b.Fatal(err)
					}
					members = append(members, g)
				}
				waitSettled(b, members, partitions)
				began := time.Now()
				b.StartTimer()
				switch event {
				case "join":
					g, err := s.NewGroupConsumer(opts(fmt.Sprint(event, "-", i)))
					if err != nil {
						b.Fatal(err)
					}
					members = append(members, g)
				case "leave":
					if err := members[0].Close(); err != nil {
						b.Fatal(err)
					}
					members = members[1:]
				}
				waitSettled(b, members, partitions)
				b.StopTimer()
				total += time.Since(began)
				for _, g := range members {
					g.Close()
				}
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/rebalance")
		})
	}
}

// settled reports whether members own partitions between them, each at least its
// fair share.
func settled(members []*log.GroupConsumer, partitions int) bool {
	owned := 0
	for _, g := range members {
		n := len(g.Assignment())
		if n < partitions/len(members) {
			return false
		}
		owned += n
	}
	return owned == partitions
}

// waitSettled polls until members settle (see settled): ownership changes on the
// members' own goroutines, and the time it takes is what BenchmarkRebalance measures.
func waitSettled(b *testing.B, members []*log.GroupConsumer, partitions int) {
	deadline := time.Now().Add(30 * time.Second)
	for !settled(members, partitions) {
		if time.Now().After(deadline) {
			b.Fatal("the group did not settle in 30 s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
