package partition_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestTxnReadCommittedAfterCompaction: the cleaned segments keep the aborted
// transactions indexed (as Kafka's cleaner, for a fetch's aborted list), after
// compaction, after a clean reopen and after a crash.
func TestTxnReadCommittedAfterCompaction(t *testing.T) {
	fsys := vfs.NewCrashable()
	opts := partition.Options{SegmentBytes: 400, Compact: true}
	p := openDir(t, fsys, leaderDir, opts)
	_, err := appendTransactional(p, 1, 0, 0, 2) // 0-1, unique keys
	require.NoError(t, err)
	endTxn(t, p, 1, 0, partition.MarkerAbort) // 2
	for i := range 30 {                       // keys that replace each other, rolling segments
		_, err := p.Append(context.Background(), []partition.Record{{Key: []byte(fmt.Sprintf("other%d", i%3)), Value: []byte("v")}})
		require.NoError(t, err)
	}
	before := readAllAt(t, p, partition.ReadCommitted, 0)
	require.NotContains(t, before, int64(0))
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.True(t, res.Compacted)
	require.Positive(t, res.RecordsRemoved)
	uncommitted := readAllAt(t, p, partition.ReadUncommitted, 0)
	require.NotContains(t, uncommitted, int64(0), "compaction drops aborted records (TestTxnCompaction)")
	check := func(t *testing.T, p *partition.Partition) {
		got := readAllAt(t, p, partition.ReadCommitted, 0)
		require.NotContains(t, got, int64(0))
		require.NotContains(t, got, int64(1))
		require.Equal(t, []partition.AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 2, LastStableOffset: 3}}, p.AbortedTxns(0, p.EndOffset()))
	}
	check(t, p)
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	for _, f := range []vfs.FS{fsys, crashed} {
		q := openDir(t, f, leaderDir, opts)
		check(t, q)
		require.NoError(t, q.Close())
	}
}

// batchAt returns the header of the batch holding offset, or false if compaction
// removed it.
func batchAt(t testing.TB, p *partition.Partition, offset int64) (segment.BatchHeader, bool) {
	t.Helper()
	b, err := p.ReadBatches(nil, offset, 1)
	require.NoError(t, err)
	hs := headers(t, b)
	if len(hs) == 0 || hs[0].BaseOffset > offset {
		return segment.BatchHeader{}, false
	}
	return hs[0], true
}

// TestTxnCompaction: compaction drops an aborted transaction's records (which
// never replace a committed record of the same key), keeps a marker while its
// transaction has records, sets a delete horizon on it once they are gone and
// removes it after the horizon, and never cleans an open transaction's records.
func TestTxnCompaction(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	opts := partition.Options{SegmentBytes: 300, Compact: true, DeleteRetention: time.Hour, Now: func() time.Time { return now }}
	p := openDir(t, vfs.NewMem(), leaderDir, opts)
	defer p.Close()
	ctx := context.Background()
	plain := func(key string) int64 {
		base, err := p.Append(ctx, []partition.Record{{Key: []byte(key), Value: []byte("plain")}})
		require.NoError(t, err)
		return base
	}
	txn := func(id int64, sequence int32, keys ...string) int64 {
		rs := make([]partition.Record, len(keys))
		for i, k := range keys {
			rs[i] = partition.Record{Key: []byte(k), Value: []byte("txn")}
		}
		base, err := p.AppendWith(ctx, rs, &partition.AppendOptions{Producer: &partition.Producer{ID: id, BaseSequence: sequence, Transactional: true}})
		require.NoError(t, err)
		return base
	}
	a := plain("a")                                          // 0
	aborted := txn(1, 0, "a", "c")                           // 1-2
	abortMarker := endTxn(t, p, 1, 0, partition.MarkerAbort) // 3
	committed := txn(2, 0, "d")                              // 4
	commitMarker := endTxn(t, p, 2, 0, partition.MarkerCommit)
	for i := range 20 {
		plain(fmt.Sprintf("z%d", i%2))
	}
	wantCommitted := readAllAt(t, p, partition.ReadCommitted, 0)

	_, err := p.ForceCompact(ctx)
	require.NoError(t, err)
	got := readAllAt(t, p, partition.ReadUncommitted, 0)
	require.Contains(t, got, a, "an aborted record replaces nothing")
	require.NotContains(t, got, aborted, "aborted records are dropped")
	require.NotContains(t, got, aborted+1)
	require.Contains(t, got, committed)
	require.Equal(t, wantCommitted[:2], readAllAt(t, p, partition.ReadCommitted, 0)[:2], "a and d")
	h, ok := batchAt(t, p, commitMarker)
	require.True(t, ok, "the commit marker stays while its record does")
	require.False(t, h.HasDeleteHorizon())
	h, ok = batchAt(t, p, abortMarker)
	require.True(t, ok, "the abort marker stays until its horizon")
	horizon, has := h.DeleteHorizon()
	require.True(t, has)
	require.Equal(t, now.Add(time.Hour).UnixMilli(), horizon)

	now = now.Add(time.Hour + time.Millisecond)
	_, err = p.ForceCompact(ctx)
	require.NoError(t, err)
	if h, ok := batchAt(t, p, abortMarker); ok {
		require.Zero(t, h.RecordCount, "past its horizon the marker goes, or stays emptied")
	}
	h, ok = batchAt(t, p, commitMarker)
	require.True(t, ok)
	require.EqualValues(t, 1, h.RecordCount)

	// An open transaction: its records, and everything after, are not cleaned.
	open := txn(3, 0, "z0")
	for i := range 20 {
		plain(fmt.Sprintf("z%d", i%2))
	}
	_, err = p.ForceCompact(ctx)
	require.NoError(t, err)
	require.EqualValues(t, open, p.LastStableOffset())
	require.Contains(t, readAllAt(t, p, partition.ReadUncommitted, 0), open)
}

// TestTxnCompactedAbortRebuildsClosed: once compaction emptied an aborted
// transaction's batch and removed its marker, a producer state rebuilt from the
// log alone (every snapshot lost) holds no open transaction: the last stable
// offset is the end offset.
func TestTxnCompactedAbortRebuildsClosed(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 300, Compact: true, DeleteRetention: time.Hour, Now: func() time.Time { return now }}
	p := openDir(t, fsys, leaderDir, opts)
	ctx := context.Background()
	_, err := appendTransactional(p, 1, 0, 0, 2)
	require.NoError(t, err)
	abort := endTxn(t, p, 1, 0, partition.MarkerAbort)
	for i := range 20 {
		_, err := p.Append(ctx, []partition.Record{{Key: []byte(fmt.Sprintf("z%d", i%2)), Value: []byte("v")}})
		require.NoError(t, err)
	}
	_, err = p.ForceCompact(ctx)
	require.NoError(t, err)
	now = now.Add(2 * time.Hour)
	_, err = p.ForceCompact(ctx)
	require.NoError(t, err)
	if h, ok := batchAt(t, p, abort); ok {
		require.Zero(t, h.RecordCount, "the marker is gone")
	}
	require.NoError(t, p.Close())
	for _, name := range snapshotFiles(t, fsys, leaderDir) {
		require.NoError(t, fsys.Remove(leaderDir+"/"+name))
	}
	q := openDir(t, fsys, leaderDir, opts)
	defer q.Close()
	require.Equal(t, q.EndOffset(), q.LastStableOffset())
}
