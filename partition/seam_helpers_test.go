package partition_test

// Helpers of the tests of the replica seam: high_watermark_test.go, epochs_test.go
// and replica_append_test.go.

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// The directories of a leader's and a follower's copy of one partition.
const (
	leaderDir   = "/data/leader/orders-0"
	followerDir = "/data/follower/orders-0"
)

// openDir opens the partition in dir on fsys with opts.
func openDir(t testing.TB, fsys vfs.FS, dir string, opts partition.Options) *partition.Partition {
	t.Helper()
	opts.FS = fsys
	p, err := partition.Open(dir, &opts)
	require.NoError(t, err)
	return p
}

// headers parses concatenated batches.
func headers(t testing.TB, b []byte) []segment.BatchHeader {
	t.Helper()
	var out []segment.BatchHeader
	for pos := 0; pos < len(b); {
		h, err := segment.ParseBatchHeader(b[pos:], 1<<30)
		require.NoError(t, err, "batch at byte %d", pos)
		require.LessOrEqual(t, h.Size(), len(b)-pos, "batch at byte %d", pos)
		_, err = segment.VerifyBatch(b[pos:pos+h.Size()], 1<<30)
		require.NoError(t, err, "batch at byte %d", pos)
		out = append(out, h)
		pos += h.Size()
	}
	return out
}

// fetchAll returns every batch FetchReplica serves from offset to the written offset,
// concatenated.
func fetchAll(t testing.TB, p *partition.Partition, offset int64) []byte {
	t.Helper()
	var out []byte
	for {
		b, err := p.FetchReplica(nil, offset, 1<<10)
		require.NoError(t, err)
		if len(b) == 0 {
			require.Equal(t, p.WrittenOffset(), offset, "FetchReplica returned nothing below the written offset")
			return out
		}
		hs := headers(t, b)
		out = append(out, b...)
		offset = hs[len(hs)-1].NextOffset()
	}
}

// readBatchesAll returns every batch ReadBatches serves from offset to the end
// offset, concatenated.
func readBatchesAll(t testing.TB, p *partition.Partition, offset int64) []byte {
	t.Helper()
	var out []byte
	for {
		b, err := p.ReadBatches(nil, offset, 1<<10)
		require.NoError(t, err)
		if len(b) == 0 {
			return out
		}
		hs := headers(t, b)
		out = append(out, b...)
		offset = hs[len(hs)-1].NextOffset()
	}
}

// batchEpochs returns "base-last@epoch" for each batch of b.
func batchEpochs(t testing.TB, b []byte) []string {
	t.Helper()
	var out []string
	for _, h := range headers(t, b) {
		out = append(out, fmt.Sprintf("%d-%d@%d", h.BaseOffset, h.LastOffset(), h.PartitionLeaderEpoch))
	}
	return out
}

// replicate copies what leader has written beyond follower's written offset into
// follower, as a follower's fetcher does, maxBytes per fetch. It returns the number
// of AppendReplica calls.
func replicate(t testing.TB, leader, follower *partition.Partition, maxBytes int) int {
	t.Helper()
	calls := 0
	for {
		offset := follower.WrittenOffset()
		b, err := leader.FetchReplica(nil, offset, maxBytes)
		require.NoError(t, err)
		if len(b) == 0 {
			return calls
		}
		hs := headers(t, b)
		end, err := follower.AppendReplica(context.Background(), b)
		require.NoError(t, err)
		require.Equal(t, hs[len(hs)-1].NextOffset(), end)
		require.Equal(t, end, follower.WrittenOffset())
		calls++
	}
}

// logFiles returns the content of every .log file in dir, by name.
func logFiles(t testing.TB, fsys vfs.FS, dir string) map[string][]byte {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, name := range names {
		if _, suffix, ok := segment.ParseFileName(name); ok && suffix == segment.LogSuffix {
			data, err := vfs.ReadFile(fsys, filepath.Join(dir, name))
			require.NoError(t, err)
			out[name] = data
		}
	}
	return out
}

// records returns n records with values value(o) for o from first, keys cycling
// over keys distinct ones.
func records(first int64, n, keys int) []partition.Record {
	out := make([]partition.Record, n)
	for i := range out {
		o := first + int64(i)
		out[i] = partition.Record{Key: []byte(fmt.Sprintf("k%d", o%int64(keys))), Value: value(o), Timestamp: 1_000 + o}
	}
	return out
}

// appendBatches appends batches of the given sizes with Append and returns the
// base offset of each.
func appendBatches(t testing.TB, p *partition.Partition, sizes ...int) []int64 {
	t.Helper()
	var bases []int64
	for _, n := range sizes {
		next := p.WrittenOffset()
		base, err := p.Append(context.Background(), records(next, n, 1<<30))
		require.NoError(t, err)
		require.Equal(t, next, base)
		bases = append(bases, base)
	}
	return bases
}

// offsetsRead returns the offsets of the records Read returns from offset, to the
// end offset.
func offsetsRead(t testing.TB, p *partition.Partition, offset int64) []int64 {
	t.Helper()
	var out []int64
	for {
		recs, err := p.Read(offset, 0, 1<<10)
		require.NoError(t, err)
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			require.Equal(t, value(r.Offset), r.Value)
			out = append(out, r.Offset)
		}
		offset = recs[len(recs)-1].Offset + 1
	}
}

// span returns the offsets from..to-1.
func span(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// syncGate holds the acknowledgement of fsyncs while it is armed: Hooks.OnFsync
// runs after a group commit's fsync and before it acknowledges, so a test can see a
// partition with bytes written and fsynced but not yet acknowledged.
type syncGate struct {
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
}

func newSyncGate() *syncGate { return &syncGate{} }

// arm makes the next fsync wait in the hook until open.
func (g *syncGate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.entered, g.release = true, make(chan struct{}), make(chan struct{})
}

// hook is the Hooks.OnFsync function.
func (g *syncGate) hook(partition.FsyncEvent) {
	g.mu.Lock()
	armed, entered, release := g.armed, g.entered, g.release
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(entered)
		<-release
	}
}

// waitEntered waits until an fsync waits in the hook.
func (g *syncGate) waitEntered() {
	g.mu.Lock()
	entered := g.entered
	g.mu.Unlock()
	<-entered
}

// open lets the waiting fsync acknowledge.
func (g *syncGate) open() {
	g.mu.Lock()
	release := g.release
	g.mu.Unlock()
	close(release)
}
