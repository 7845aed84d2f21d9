package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalog/strata/internal/benchreport"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
)

// benchCluster starts a Cluster of n brokers, each a directory of one b.TempDir()
// (one disk for all: three copies cost three times the bytes), whose logs use mode.
func benchCluster(b *testing.B, n int, mode partition.SyncMode) *replica.Cluster {
	b.Helper()
	root := b.TempDir()
	c, err := replica.NewCluster(replica.ClusterOptions{
		OpenLog: func(id replica.BrokerID, name string, replicated bool) (*partition.Partition, error) {
			o := appendOptions(mode, 0)
			o.Replicated = replicated
			return partition.Open(filepath.Join(root, fmt.Sprintf("broker-%d", id), name), o)
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := c.Close(); err != nil {
			b.Error(err)
		}
	})
	for id := range n {
		if err := c.StartBroker(replica.BrokerID(id)); err != nil {
			b.Fatal(err)
		}
	}
	return c
}

func brokers(n int) []replica.BrokerID {
	ids := make([]replica.BrokerID, n)
	for i := range ids {
		ids[i] = replica.BrokerID(i)
	}
	return ids
}

// BenchmarkReplicatedProduce measures Partition.Produce with acks=all of batches of
// 1000 × 100 B through a Cluster, RF=1 (one broker, the unreplicated path) against
// RF=3 (three brokers, min ISR 2), from W producers at once (a Kafka producer keeps up
// to five requests in flight). With sync=none the cost is the CPU of three copies and
// the round trips of the followers' fetches; with sync=every-append each replica
// fsyncs what it holds before it counts toward the high watermark.
func BenchmarkReplicatedProduce(b *testing.B) {
	records := makeRecords(1000, 100)
	size := encodedSize(b, records)
	for _, mode := range []string{"none", "every-append"} {
		for _, rf := range []int{1, 3} {
			for _, writers := range []int{1, 4} {
				b.Run(fmt.Sprintf("sync=%s/rf=%d/writers=%d", mode, rf, writers), func(b *testing.B) {
					c := benchCluster(b, rf, syncModes[mode])
					p, err := c.CreatePartition("bench-0", brokers(rf), replica.Config{MinInsyncReplicas: min(2, rf)})
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(size))
					allocs := benchreport.Mallocs()
					b.ResetTimer()
					var wg sync.WaitGroup
					var mu sync.Mutex
					var failure error
					next := make(chan struct{}, b.N)
					for range b.N {
						next <- struct{}{}
					}
					close(next)
					for range writers {
						wg.Go(func() {
							for range next {
								if _, err := p.Produce(context.Background(), records, replica.AcksAll); err != nil {
									mu.Lock()
									failure = err
									mu.Unlock()
									return
								}
							}
						})
					}
					wg.Wait()
					b.StopTimer()
					if failure != nil {
						b.Fatal(failure)
					}
					benchreport.Records(b, int64(b.N)*int64(len(records)), allocs)
				})
			}
		}
	}
}

// BenchmarkFailover measures the time from stopping a partition's leader to the first
// acks=all produce the new leader acknowledges (RF=3, min ISR 2, sync=every-append):
// the controller's election, the new leader taking its epoch, the remaining follower
// fetching from it. Between ops, outside the timer, the stopped broker starts again
// and rejoins the ISR.
func BenchmarkFailover(b *testing.B) {
	c := benchCluster(b, 3, partition.SyncEveryAppend)
	p, err := c.CreatePartition("bench-0", brokers(3), replica.Config{MinInsyncReplicas: 2})
	if err != nil {
		b.Fatal(err)
	}
	records := makeRecords(10, 100)
	ctx := context.Background()
	if _, err := p.Produce(ctx, records, replica.AcksAll); err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		waitISR(b, p, 3)
		leader := p.State().Leader
		b.StartTimer()
		began := time.Now()
		if err := c.StopBroker(leader); err != nil {
			b.Fatal(err)
		}
		for {
			_, err := p.Produce(ctx, records, replica.AcksAll)
			if err == nil {
				break
			}
		}
		took = append(took, time.Since(began))
		b.StopTimer()
		if err := c.StartBroker(leader); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}

// waitISR waits until the partition's ISR has n members.
func waitISR(b *testing.B, p *replica.Partition, n int) {
	deadline := time.Now().Add(30 * time.Second)
	for len(p.State().ISR) < n {
		if time.Now().After(deadline) {
			b.Fatalf("ISR %v after 30 s", p.State().ISR)
		}
		time.Sleep(time.Millisecond) // a benchmark's wait, not a test's
	}
}

// BenchmarkFollowerLag produces batches of 1000 × 100 B with acks=leader at a fixed
// rate (rate= batches per second, from four producers taking turns on a schedule) to
// an RF=3 partition and measures, for each batch, the time from its produce to the
// moment the slower follower holds it durably: p50 and p99 over the run. One op is
// one batch. The rates are about 0.3x of what one broker alone takes (RF=1) under
// each sync policy (BenchmarkReplicatedProduce).
func BenchmarkFollowerLag(b *testing.B) {
	records := makeRecords(1000, 100)
	size := encodedSize(b, records)
	for _, tc := range []struct {
		mode string
		rate int
	}{{"none", 1000}, {"none", 6000}, {"every-append", 300}, {"every-append", 1000}} {
		b.Run(fmt.Sprintf("sync=%s/rate=%d", tc.mode, tc.rate), func(b *testing.B) {
			c := benchCluster(b, 3, syncModes[tc.mode])
			p, err := c.CreatePartition("bench-0", brokers(3), replica.Config{MinInsyncReplicas: 2})
			if err != nil {
				b.Fatal(err)
			}
			leader, err := p.Leader()
			if err != nil {
				b.Fatal(err)
			}
			var followers []*replica.Replica
			for id, r := range p.Replicas() {
				if id != leader.Broker() {
					followers = append(followers, r)
				}
			}
			lags := make([]time.Duration, b.N)
			interval := time.Second / time.Duration(tc.rate)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.SetBytes(int64(size))
			b.ResetTimer()
			began := time.Now()
			for range 4 {
				wg.Go(func() {
					for {
						i := int(next.Add(1) - 1)
						if i >= b.N {
							return
						}
						time.Sleep(time.Until(began.Add(time.Duration(i) * interval))) // the schedule
						at := time.Now()
						base, err := p.Produce(context.Background(), records, replica.AcksLeader)
						if err != nil {
							b.Error(err)
							return
						}
						end := base + int64(len(records))
						for _, f := range followers {
							for {
								changes := f.Log().Changes()
								if f.Log().AcknowledgedOffset() >= end {
									break
								}
								<-changes
							}
						}
						lags[i] = time.Since(at)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lags)
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
