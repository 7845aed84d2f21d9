package replica

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

// testCluster is a Cluster over in-memory brokers, one filesystem per broker.
type testCluster struct {
	t   testing.TB
	c   *Cluster
	net *Network
	mu  sync.Mutex
	fs  map[BrokerID]vfs.FS
	opt partition.Options
}

func newTestCluster(t testing.TB, brokers int, opts ClusterOptions) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, fs: map[BrokerID]vfs.FS{}, net: NewNetwork(nil)}
	for b := range brokers {
		tc.fs[BrokerID(b)] = vfs.NewMem()
	}
	opts.Transport = tc.net
	opts.OpenLog = tc.openLog
	c, err := NewCluster(opts)
	require.NoError(t, err)
	tc.c = c
	for b := range brokers {
		require.NoError(t, c.StartBroker(BrokerID(b)))
	}
	t.Cleanup(func() { _ = c.Close() })
	return tc
}

func (tc *testCluster) openLog(b BrokerID, name string, replicated bool) (*partition.Partition, error) {
	tc.mu.Lock()
	fsys := tc.fs[b]
	tc.mu.Unlock()
	o := tc.opt
	o.FS, o.Replicated = fsys, replicated
	return partition.Open(path.Join(fmt.Sprintf("/broker-%d", b), name), &o)
}

// records returns n records with values prefix-i.
func records(prefix string, n int) []partition.Record {
	out := make([]partition.Record, n)
	for i := range out {
		out[i] = partition.Record{Value: fmt.Appendf(nil, "%s-%d", prefix, i)}
	}
	return out
}

// waitFor waits, on the replicas' change channels, until cond holds.
func waitFor(t testing.TB, p *Partition, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		var chans []<-chan struct{}
		for _, r := range p.Replicas() {
			r.mu.Lock()
			chans = append(chans, r.changedLocked())
			r.mu.Unlock()
			chans = append(chans, r.log.Changes())
		}
		if cond() {
			return
		}
		cases := make(chan struct{}, 1)
		stop := make(chan struct{})
		for _, ch := range chans {
			go func() {
				select {
				case <-ch:
					select {
					case cases <- struct{}{}:
					default:
					}
				case <-stop:
				}
			}()
		}
		select {
		case <-cases:
		case <-ctx.Done():
			close(stop)
			t.Fatalf("condition not met in time")
		}
		close(stop)
	}
}

// logBytes returns every batch of a replica's log, up to its written offset.
func logBytes(t testing.TB, r *Replica) []byte {
	t.Helper()
	return logBytesFrom(t, r, r.log.StartOffset())
}

// logBytesFrom returns the batches of a replica's log from the one holding from.
func logBytesFrom(t testing.TB, r *Replica, from int64) []byte {
	t.Helper()
	var out []byte
	for off := from; off < r.log.WrittenOffset(); {
		b, err := r.log.FetchReplica(nil, off, 1<<20)
		require.NoError(t, err)
		if len(b) == 0 {
			break
		}
		out = append(out, b...)
		h, _ := lastHeader(b)
		off = h
	}
	return out
}

// lastHeader returns the offset after the last batch in b.
func lastHeader(b []byte) (int64, int) {
	var next int64
	n := 0
	for pos := 0; pos < len(b); {
		h, err := parseHeader(b[pos:])
		if err != nil {
			break
		}
		next = h.NextOffset()
		pos += h.Size()
		n++
	}
	return next, n
}

func sortedIDs(m map[BrokerID]*Replica) []BrokerID {
	var ids []BrokerID
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
