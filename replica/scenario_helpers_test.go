package replica

import (
	"context"
	"errors"
	"fmt"
	"path"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

// scenario is a Manual cluster whose brokers sit on crashable filesystems, for
// tests that script a sequence of events as Kafka's own tests do: every fetch runs
// when the script says (replicate), a broker is bounced (a clean stop and start) or
// crashed (its unsynced writes lost), time passes only when told.
type scenario struct {
	t   *testing.T
	c   *Cluster
	net *Network
	fs  map[BrokerID]*vfs.CrashableFS
	// faults injects disk failures into each broker's filesystem.
	faults map[BrokerID]*vfs.Switch
	opts   partition.Options
	now    time.Time
	parts  map[string]*Partition
}

// newScenario starts a Manual cluster of the given brokers whose logs use opts
// (FS and Replicated are set per replica).
func newScenario(t *testing.T, brokers []BrokerID, opts partition.Options) *scenario {
	t.Helper()
	sc := &scenario{t: t, fs: map[BrokerID]*vfs.CrashableFS{}, faults: map[BrokerID]*vfs.Switch{}, opts: opts, now: time.Unix(1_700_000_000, 0), parts: map[string]*Partition{}}
	sc.net = NewNetwork(nil)
	for _, b := range brokers {
		sc.fs[b] = vfs.NewCrashable()
		sc.faults[b] = new(vfs.Switch)
	}
	c, err := NewCluster(ClusterOptions{
		Transport: sc.net, Manual: true, Now: func() time.Time { return sc.now },
		OpenLog: func(b BrokerID, name string, replicated bool) (*partition.Partition, error) {
			o := sc.opts
			o.FS, o.Replicated = vfs.NewFaulty(sc.fs[b], sc.faults[b].Inject), replicated
			return partition.Open(path.Join(fmt.Sprintf("/broker-%d", b), name), &o)
		},
	})
	require.NoError(t, err)
	sc.c = c
	for _, b := range brokers {
		require.NoError(t, c.StartBroker(b))
	}
	t.Cleanup(func() { _ = c.Close() })
	return sc
}

// create creates a partition.
func (sc *scenario) create(name string, replicas []BrokerID, cfg Config) *Partition {
	sc.t.Helper()
	p, err := sc.c.CreatePartition(name, replicas, cfg)
	require.NoError(sc.t, err)
	sc.parts[name] = p
	return p
}

// replicate runs fetch rounds of every follower of every partition until none
// makes progress.
func (sc *scenario) replicate() {
	sc.t.Helper()
	for range 1000 {
		progress := false
		for _, p := range sc.parts {
			for _, r := range p.sortedReplicas() {
				before, hw := r.log.WrittenOffset(), r.log.HighWatermark()
				state := r.State().PartitionEpoch
				err := r.fetchOnce(context.Background(), 0)
				if err != nil && !errors.Is(err, errNotFollowing) && !errors.Is(err, ErrBrokerOffline) {
					sc.t.Logf("fetch of %s on %d: %v", p.name, r.broker, err)
				}
				if r.log.WrittenOffset() != before || r.log.HighWatermark() != hw || r.State().PartitionEpoch != state {
					progress = true
				}
			}
		}
		if !progress {
			return
		}
	}
	sc.t.Fatal("replication did not settle")
}

// produce appends records through the leader with acks and fails the test on error.
func (sc *scenario) produce(p *Partition, acks Acks, values ...string) int64 {
	sc.t.Helper()
	base, err := sc.tryProduce(p, acks, values...)
	require.NoError(sc.t, err)
	return base
}

// tryProduce appends records, one batch, through the leader; acks=all waits while
// the followers replicate.
func (sc *scenario) tryProduce(p *Partition, acks Acks, values ...string) (int64, error) {
	recs := make([]partition.Record, len(values))
	for i, v := range values {
		recs[i] = partition.Record{Value: []byte(v), Timestamp: sc.now.UnixMilli()}
	}
	r, err := p.Leader()
	if err != nil {
		return 0, err
	}
	base, end, epoch, err := r.appendAsLeader(context.Background(), recs, acks)
	if err != nil || acks != AcksAll {
		return base, err
	}
	sc.replicate()
	r.mu.Lock()
	r.updateHighWatermarkLocked()
	done, _, err := r.ackStatusLocked(end, epoch)
	r.mu.Unlock()
	if err == nil && !done {
		err = fmt.Errorf("not acknowledged after replication (high watermark %d, end %d)", r.log.HighWatermark(), end)
	}
	return base, err
}

// bounce stops a broker cleanly and starts it again.
func (sc *scenario) bounce(b BrokerID) {
	sc.t.Helper()
	require.NoError(sc.t, sc.c.StopBroker(b))
	require.NoError(sc.t, sc.c.StartBroker(b))
}

// crash stops a broker as a power loss does: what it did not fsync is lost. It
// stays down until start.
func (sc *scenario) crash(b BrokerID) {
	sc.t.Helper()
	image := sc.fs[b].Crash(vfs.DropUnsynced, 0)
	require.NoError(sc.t, sc.c.StopBroker(b))
	sc.fs[b] = image
}

// stop stops a broker cleanly; it stays down until start.
func (sc *scenario) stop(b BrokerID) {
	sc.t.Helper()
	require.NoError(sc.t, sc.c.StopBroker(b))
}

// start starts a stopped or crashed broker.
func (sc *scenario) start(b BrokerID) {
	sc.t.Helper()
	require.NoError(sc.t, sc.c.StartBroker(b))
}

// values returns "offset:value" for every record of a replica's log, up to its log
// end offset.
func (sc *scenario) values(r *Replica) []string {
	sc.t.Helper()
	var out []string
	b := logBytes(sc.t, r)
	var d segment.Decoder
	for pos := 0; pos < len(b); {
		h, err := parseHeader(b[pos:])
		require.NoError(sc.t, err)
		require.NoError(sc.t, d.Reset(b[pos:pos+h.Size()]))
		for {
			var rec partition.Record
			ok, err := d.Next(&rec)
			require.NoError(sc.t, err)
			if !ok {
				break
			}
			out = append(out, fmt.Sprintf("%d:%s", rec.Offset, rec.Value))
		}
		pos += h.Size()
	}
	return out
}

// epochs returns a replica's leader epoch cache.
func (sc *scenario) epochs(r *Replica) []partition.EpochEntry {
	sc.t.Helper()
	e, err := r.log.Epochs()
	require.NoError(sc.t, err)
	return e
}
