package partition_test

// Unit tests of log compaction: what it keeps and removes, the dirty ratio, the
// delete horizon of tombstones on the Options.Now clock, grouping, gaps seen by every
// read path, compact,delete, the cleaner point across reopen and truncation,
// concurrent appends, retention, truncation and Close held at chosen points of a
// compaction, and corrupt bytes.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// testClock is a settable clock for Options.Now.
type testClock struct{ nanos atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.nanos.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time               { return time.Unix(0, c.nanos.Load()) }
func (c *testClock) Advance(d time.Duration)      { c.nanos.Add(int64(d)) }
func (c *testClock) Millis(d time.Duration) int64 { return c.Now().Add(d).UnixMilli() }

// compactOptions are small segments (a few records each), a test clock, and compaction on.
func compactOptions(fsys vfs.FS, clock *testClock) partition.Options {
	return partition.Options{
		SegmentBytes:       1 << 10,
		IndexIntervalBytes: 128,
		Compact:            true,
		Now:                clock.Now,
		FS:                 fsys,
	}
}

// kv is a record given as strings; value "<nil>" is a tombstone, key "<nil>" no key.
type kv struct{ key, value string }

func (r kv) record(ts int64) partition.Record {
	rec := partition.Record{Timestamp: ts}
	if r.key != "<nil>" {
		rec.Key = []byte(r.key)
	}
	if r.value != "<nil>" {
		rec.Value = []byte(r.value)
	}
	return rec
}

func appendKVs(t testing.TB, p *partition.Partition, ts int64, records ...kv) int64 {
	t.Helper()
	batch := make([]partition.Record, len(records))
	for i, r := range records {
		batch[i] = r.record(ts)
	}
	base, err := p.Append(context.Background(), batch)
	require.NoError(t, err)
	return base
}

// readRecords reads every record from the start offset with a Reader.
func readRecords(t testing.TB, p *partition.Partition) []partition.Record {
	t.Helper()
	r := p.NewReader(p.StartOffset(), 0)
	var out []partition.Record
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			require.Equal(t, p.EndOffset(), r.Offset())
			return out
		}
		c := *rec
		c.Key, c.Value, c.Headers = cloneBytes(rec.Key), cloneBytes(rec.Value), append([]partition.Header(nil), rec.Headers...)
		if len(c.Headers) == 0 {
			c.Headers = nil
		}
		out = append(out, c)
	}
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// describe renders records as "offset:key=value" for readable failures.
func describe(records []partition.Record) []string {
	out := make([]string, len(records))
	for i, r := range records {
		key, value := "<nil>", "<nil>"
		if r.Key != nil {
			key = string(r.Key)
		}
		if r.Value != nil {
			value = string(r.Value)
		}
		out[i] = fmt.Sprintf("%d:%s=%s", r.Offset, key, value)
	}
	return out
}

// openCompacted opens a partition on fsys with opts.
func openCompacted(t testing.TB, opts partition.Options) *partition.Partition {
	t.Helper()
	p, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func forceCompact(t testing.TB, p *partition.Partition) partition.CompactionResult {
	t.Helper()
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	return res
}

// TestCompactKeepsLatestPerKey: superseded records in sealed segments go, each key's
// latest record stays at its offset, the active segment keeps everything, keyless
// records always stay.
func TestCompactKeepsLatestPerKey(t *testing.T) {
	clock := newTestClock()
	p := openCompacted(t, compactOptions(vfs.NewMem(), clock))
	ts := clock.Millis(0)
	appendKVs(t, p, ts, kv{"a", "a0"}, kv{"b", "b0"}, kv{"<nil>", "x0"}) // 0-2
	appendKVs(t, p, ts, kv{"a", "a1"})                                   // 3
	require.NoError(t, p.Roll())
	appendKVs(t, p, ts, kv{"c", "c0"}, kv{"a", "a2"}) // 4-5
	require.NoError(t, p.Roll())
	appendKVs(t, p, ts, kv{"c", "c1"}, kv{"b", "b1"}) // 6-7: active
	segmentsBefore := p.Stats().Segments

	res := forceCompact(t, p)
	require.True(t, res.Compacted)
	require.Equal(t, int64(6), res.CleanerPoint, "the base of the active segment")
	require.Equal(t, int64(2), res.RecordsRemoved, "a0 and a1")
	require.Equal(t, 2, res.SegmentsRead)
	require.Equal(t, 1, res.SegmentsWritten, "two small segments merge")
	require.Equal(t, segmentsBefore-1, p.Stats().Segments)
	require.Equal(t, []string{"1:b=b0", "2:<nil>=x0", "4:c=c0", "5:a=a2", "6:c=c1", "7:b=b1"}, describe(readRecords(t, p)))
	st := p.Stats()
	require.Equal(t, uint64(1), st.Compactions)
	require.Equal(t, uint64(2), st.CompactionRecordsRemoved)
	require.Equal(t, int64(6), st.CleanerPoint)
	require.Equal(t, int64(8), st.EndOffset)

	// Nothing dirty: Compact does nothing; ForceCompact finds nothing to change.
	res, err := p.Compact(context.Background())
	require.NoError(t, err)
	require.False(t, res.Compacted)
	require.False(t, forceCompact(t, p).Compacted)

	// The active segment rolls: c0 and b0 are superseded now.
	require.NoError(t, p.Roll())
	res = forceCompact(t, p)
	require.True(t, res.Compacted)
	require.Equal(t, []string{"2:<nil>=x0", "5:a=a2", "6:c=c1", "7:b=b1"}, describe(readRecords(t, p)))
}

// TestCompactDirtyRatio: Compact compacts once dirty bytes reach MinCleanableDirtyRatio
// of the cleanable bytes.
func TestCompactDirtyRatio(t *testing.T) {
	clock := newTestClock()
	opts := compactOptions(vfs.NewMem(), clock)
	opts.MinCleanableDirtyRatio = 0.5
	p := openCompacted(t, opts)
	ts := clock.Millis(0)
	ctx := context.Background()
	fill := strings.Repeat("v", 200)
	for i := range 4 {
		appendKVs(t, p, ts, kv{fmt.Sprintf("k%d", i), fill})
		require.NoError(t, p.Roll())
	}
	res, err := p.Compact(ctx) // everything is dirty
	require.NoError(t, err)
	require.Equal(t, 1.0, res.DirtyRatio)
	require.True(t, res.Compacted, "merges four segments")
	require.Less(t, p.Stats().Segments, 5)

	appendKVs(t, p, ts, kv{"k0", fill})
	require.NoError(t, p.Roll())
	res, err = p.Compact(ctx) // one dirty segment of two of the same size: 0.5
	require.NoError(t, err)
	require.False(t, res.Compacted)
	require.InDelta(t, 0.2, res.DirtyRatio, 0.05, "one small dirty segment, four records clean")

	for _, k := range []string{"k1", "k2", "k3"} {
		appendKVs(t, p, ts, kv{k, fill})
		require.NoError(t, p.Roll())
	}
	res, err = p.Compact(ctx)
	require.NoError(t, err)
	require.InDelta(t, 0.5, res.DirtyRatio, 0.01, "as many dirty bytes as clean ones")
	require.True(t, res.Compacted)
	require.Equal(t, int64(4), res.RecordsRemoved)
	require.Len(t, readRecords(t, p), 4)
}

// TestCompactTombstones: a tombstone removes its key's older records at once, stays
// DeleteRetention after the first compaction that saw it, then goes; the clock is
// Options.Now.
func TestCompactTombstones(t *testing.T) {
	for _, retention := range []time.Duration{0, time.Hour, -1} {
		t.Run(fmt.Sprintf("retention=%v", retention), func(t *testing.T) {
			clock := newTestClock()
			opts := compactOptions(vfs.NewMem(), clock)
			opts.DeleteRetention = retention
			p := openCompacted(t, opts)
			ts := clock.Millis(0)
			appendKVs(t, p, ts, kv{"a", "a0"}, kv{"b", "b0"})
			appendKVs(t, p, ts, kv{"a", "<nil>"}, kv{"<nil>", "<nil>"}) // 2: tombstone; 3: keyless null
			require.NoError(t, p.Roll())
			appendKVs(t, p, ts, kv{"c", "c0"})

			forceCompact(t, p)
			want := []string{"1:b=b0", "2:a=<nil>", "3:<nil>=<nil>", "4:c=c0"}
			require.Equal(t, want, describe(readRecords(t, p)), "the tombstone stays for now")

			keep := retention
			if keep == 0 {
				keep = partition.DefaultDeleteRetention
			}
			if retention > 0 || retention == 0 {
				clock.Advance(keep - time.Millisecond)
				forceCompact(t, p)
				require.Equal(t, want, describe(readRecords(t, p)), "just before the horizon")
				clock.Advance(time.Millisecond)
				res := forceCompact(t, p)
				require.Equal(t, int64(1), res.TombstonesRemoved)
				require.Equal(t, []string{"1:b=b0", "3:<nil>=<nil>", "4:c=c0"}, describe(readRecords(t, p)), "the keyless record stays")
				return
			}
			clock.Advance(1000 * time.Hour)
			forceCompact(t, p)
			require.Equal(t, want, describe(readRecords(t, p)), "negative DeleteRetention keeps tombstones")
		})
	}
}

// TestCompactHorizonOnDisk: the rewritten tombstone batch carries the delete horizon
// in its header (attribute bit 6, baseTimestamp) and its records keep their
// timestamps and offsets.
func TestCompactHorizonOnDisk(t *testing.T) {
	clock := newTestClock()
	fsys := vfs.NewMem()
	p := openCompacted(t, compactOptions(fsys, clock))
	ts := clock.Millis(-time.Minute)
	appendKVs(t, p, ts, kv{"a", "a0"}, kv{"b", "<nil>"}, kv{"c", "c0"})
	require.NoError(t, p.Roll())
	forceCompact(t, p)
	// forceCompact with nothing superseded only sets the horizon.
	buf, err := p.ReadBatches(nil, 0, 1<<20)
	require.NoError(t, err)
	h, err := segment.VerifyBatch(buf, 1<<20)
	require.NoError(t, err)
	horizon, ok := h.DeleteHorizon()
	require.True(t, ok)
	require.Equal(t, clock.Millis(partition.DefaultDeleteRetention), horizon)
	require.Equal(t, int32(2), h.LastOffsetDelta)
	records := readRecords(t, p)
	require.Equal(t, []string{"0:a=a0", "1:b=<nil>", "2:c=c0"}, describe(records))
	for _, r := range records {
		require.Equal(t, ts, r.Timestamp)
	}
}

// TestCompactReadsAcrossGaps: every read path skips the offsets compaction removed:
// a Reader placed on a removed offset, Read, ReadBatches, Locate and OffsetForTime.
func TestCompactReadsAcrossGaps(t *testing.T) {
	clock := newTestClock()
	p := openCompacted(t, compactOptions(vfs.NewMem(), clock))
	base := clock.Millis(0)
	for i := range 40 { // keys k0..k3, each batch of 5 records: offsets 0..199
		batch := make([]kv, 5)
		for j := range batch {
			batch[j] = kv{fmt.Sprintf("k%d", (i*5+j)%4), fmt.Sprintf("v%d", i*5+j)}
		}
		appendKVs(t, p, base+int64(i), batch...)
		if i%3 == 2 {
			require.NoError(t, p.Roll())
		}
	}
	require.NoError(t, p.Roll())
	appendKVs(t, p, base+100, kv{"tail", "t"}) // 200
	forceCompact(t, p)
	got := readRecords(t, p)
	require.Equal(t, []string{"196:k0=v196", "197:k1=v197", "198:k2=v198", "199:k3=v199", "200:tail=t"}, describe(got))

	for _, from := range []int64{0, 5, 100, 195, 196, 198} {
		r := p.NewReader(from, 0)
		rec, err := r.TryNext()
		require.NoError(t, err)
		want := max(from, 196)
		require.Equal(t, want, rec.Offset, "Reader at %d", from)
		records, err := p.Read(from, 1, 0)
		require.NoError(t, err)
		require.Equal(t, want, records[0].Offset, "Read at %d", from)
		loc, err := p.Locate(from)
		require.NoError(t, err)
		require.LessOrEqual(t, from, loc.BatchLast, "Locate(%d)", from)
		require.LessOrEqual(t, loc.BatchBase, want, "Locate(%d)", from)
		buf, err := p.ReadBatches(nil, from, 1)
		require.NoError(t, err)
		h, err := segment.ParseBatchHeader(buf, len(buf))
		require.NoError(t, err)
		require.GreaterOrEqual(t, h.LastOffset(), from)
	}
	off, found, err := p.OffsetForTime(base)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(196), off, "the first record left with a timestamp >= base")
	off, found, err = p.OffsetForTime(base + 100)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(200), off)
}

// TestCompactGroupsSegments: compaction merges small neighbours while their bytes fit
// SegmentBytes, and never grows the number of segments.
func TestCompactGroupsSegments(t *testing.T) {
	clock := newTestClock()
	opts := compactOptions(vfs.NewMem(), clock)
	opts.SegmentBytes = 4 << 10
	p := openCompacted(t, opts)
	ts := clock.Millis(0)
	value := strings.Repeat("x", 300)
	for i := range 60 {
		appendKVs(t, p, ts, kv{fmt.Sprintf("key-%d", i), value}) // all distinct: nothing to remove
		if i%2 == 1 {
			require.NoError(t, p.Roll())
		}
	}
	before := p.Stats()
	res := forceCompact(t, p)
	require.True(t, res.Compacted)
	require.Equal(t, int64(0), res.RecordsRemoved)
	after := p.Stats()
	require.Equal(t, 31, before.Segments)
	require.LessOrEqual(t, after.Segments, 1+30/4, "30 segments of ~760 bytes merge by 5, at least by 4")
	require.Equal(t, before.Bytes, after.Bytes, "nothing removed, nothing rewritten")
	require.Len(t, readRecords(t, p), 60)
	require.NoError(t, p.Verify(context.Background()))
}

// TestCompactDelete: with retention as well ("compact,delete"), retention deletes
// whole old segments and compaction cleans the rest.
func TestCompactDelete(t *testing.T) {
	clock := newTestClock()
	opts := compactOptions(vfs.NewMem(), clock)
	opts.RetentionAge = time.Hour
	p := openCompacted(t, opts)
	appendKVs(t, p, clock.Millis(0), kv{"a", "old"}, kv{"z", "old-only"})
	require.NoError(t, p.Roll())
	clock.Advance(2 * time.Hour)
	appendKVs(t, p, clock.Millis(0), kv{"a", "a1"}, kv{"b", "b1"})
	require.NoError(t, p.Roll()) // retention deletes the first segment
	appendKVs(t, p, clock.Millis(0), kv{"a", "a2"})
	require.NoError(t, p.Roll())
	require.Equal(t, int64(2), p.StartOffset())
	forceCompact(t, p)
	require.Equal(t, []string{"3:b=b1", "4:a=a2"}, describe(readRecords(t, p)))
	clock.Advance(2 * time.Hour)
	n, err := p.ApplyRetention()
	require.NoError(t, err)
	require.Equal(t, 1, n, "the cleaned segment is deleted by age too")
	require.Empty(t, readRecords(t, p))
}

// TestCompactNeedsOption: Compact on a partition without Options.Compact is
// ErrInvalidArgument; invalid compaction options are refused by Open.
func TestCompactNeedsOption(t *testing.T) {
	p := openCompacted(t, partition.Options{FS: vfs.NewMem()})
	_, err := p.Compact(context.Background())
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
	_, err = p.ForceCompact(context.Background())
	require.ErrorIs(t, err, partition.ErrInvalidArgument)

	for _, o := range []partition.Options{{MinCleanableDirtyRatio: 1.5}, {MinCleanableDirtyRatio: -0.1}, {MinCompactionLag: -1}, {CleanerMapBytes: -1}} {
		o.FS = vfs.NewMem()
		_, err := partition.Open(partitionDir, &o)
		require.ErrorIs(t, err, partition.ErrInvalidArgument)
	}
}

// TestCompactMinLag: a segment whose newest record is younger than MinCompactionLag
// is not cleanable, nor anything after it.
func TestCompactMinLag(t *testing.T) {
	clock := newTestClock()
	opts := compactOptions(vfs.NewMem(), clock)
	opts.MinCompactionLag = time.Hour
	p := openCompacted(t, opts)
	appendKVs(t, p, clock.Millis(0), kv{"a", "a0"})
	require.NoError(t, p.Roll())
	appendKVs(t, p, clock.Millis(0), kv{"a", "a1"})
	require.NoError(t, p.Roll())
	res := forceCompact(t, p)
	require.False(t, res.Compacted, "nothing is an hour old")
	clock.Advance(time.Hour)
	res = forceCompact(t, p)
	require.True(t, res.Compacted)
	require.Equal(t, []string{"1:a=a1"}, describe(readRecords(t, p)))
}

// TestCompactMapBudget: with a map budget smaller than a segment's keys, each
// compaction maps one dirty segment and cleans up to it; repeated compactions reach
// the same result as one with a large budget.
func TestCompactMapBudget(t *testing.T) {
	clock := newTestClock()
	opts := compactOptions(vfs.NewMem(), clock)
	opts.CleanerMapBytes = 1
	p := openCompacted(t, opts)
	ts := clock.Millis(0)
	for round := range 5 {
		for k := range 4 {
			appendKVs(t, p, ts, kv{fmt.Sprintf("k%d", k), fmt.Sprintf("r%d", round)})
		}
		require.NoError(t, p.Roll())
	}
	points := []int64{}
	for range 6 {
		points = append(points, forceCompact(t, p).CleanerPoint)
	}
	require.Equal(t, []int64{4, 8, 12, 16, 20, 20}, points, "one segment per compaction")
	require.Equal(t, []string{"16:k0=r4", "17:k1=r4", "18:k2=r4", "19:k3=r4"}, describe(readRecords(t, p)))
}

// TestCompactCleanerPointSurvivesReopen: the cleaner point is checkpointed, so a
// reopened partition does not see cleaned bytes as dirty; a damaged checkpoint means
// everything is dirty.
func TestCompactCleanerPointSurvivesReopen(t *testing.T) {
	clock := newTestClock()
	fsys := vfs.NewMem()
	opts := compactOptions(fsys, clock)
	p, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	ts := clock.Millis(0)
	appendKVs(t, p, ts, kv{"a", "a0"}, kv{"a", "a1"})
	require.NoError(t, p.Roll())
	appendKVs(t, p, ts, kv{"b", "b0"})
	require.Equal(t, int64(2), forceCompact(t, p).CleanerPoint, "the active segment's base")
	require.NoError(t, p.Close())

	p, err = partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	require.Equal(t, int64(2), p.Stats().CleanerPoint)
	res, err := p.Compact(context.Background())
	require.NoError(t, err)
	require.Equal(t, 0.0, res.DirtyRatio)
	require.NoError(t, p.Close())

	diskReplace(t, fsys, filepath.Join(partitionDir, partition.CleanerCheckpointFile), []byte("garbage\n"))
	p, err = partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, int64(0), p.Stats().CleanerPoint)
	require.Equal(t, []string{"1:a=a1", "2:b=b0"}, describe(readRecords(t, p)))
}

// TestCompactTruncateBelowCleaned: TruncateTo into the compacted range works, lowers
// the cleaner point durably, and records appended again are compacted later.
func TestCompactTruncateBelowCleaned(t *testing.T) {
	clock := newTestClock()
	fsys := vfs.NewMem()
	opts := compactOptions(fsys, clock)
	p, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	ts := clock.Millis(0)
	appendKVs(t, p, ts, kv{"a", "a0"}, kv{"b", "b0"}, kv{"a", "a1"}) // 0-2
	appendKVs(t, p, ts, kv{"c", "c0"}, kv{"a", "a2"})                // 3-4
	require.NoError(t, p.Roll())
	appendKVs(t, p, ts, kv{"d", "d0"}) // 5
	forceCompact(t, p)
	require.Equal(t, int64(5), p.Stats().CleanerPoint)
	require.Equal(t, []string{"1:b=b0", "3:c=c0", "4:a=a2", "5:d=d0"}, describe(readRecords(t, p)))

	end, err := p.TruncateTo(2) // 2 was removed: the batch holding 1..2 stays... whole batches go from the one holding 2
	require.NoError(t, err)
	require.LessOrEqual(t, end, int64(2))
	require.Equal(t, end, p.Stats().CleanerPoint)
	require.NoError(t, p.Close())
	p, err = partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, end, p.Stats().CleanerPoint, "lowered durably")

	appendKVs(t, p, ts, kv{"b", "b1"}, kv{"b", "b2"})
	require.NoError(t, p.Roll())
	appendKVs(t, p, ts, kv{"e", "e0"})
	forceCompact(t, p)
	got := readRecords(t, p)
	require.Len(t, got, 2)
	require.Equal(t, "b2", string(got[0].Value))
	require.Equal(t, "e0", string(got[1].Value))
}

// TestCompactCorruptSegment: a damaged batch in a sealed segment is a *CorruptError
// naming the file and position; nothing is dropped or changed.
func TestCompactCorruptSegment(t *testing.T) {
	clock := newTestClock()
	fsys := vfs.NewMem()
	p := openCompacted(t, compactOptions(fsys, clock))
	ts := clock.Millis(0)
	appendKVs(t, p, ts, kv{"a", "a0"})
	appendKVs(t, p, ts, kv{"a", "a1"})
	require.NoError(t, p.Roll())
	appendKVs(t, p, ts, kv{"a", "a2"})
	path := segment.LogPath(partitionDir, 0)
	size := diskSize(t, fsys, path)
	diskFlipByte(t, fsys, path, size-3) // in the value of the second batch

	_, err := p.ForceCompact(context.Background())
	var corrupt *partition.CorruptError
	require.ErrorAs(t, err, &corrupt)
	require.Equal(t, path, corrupt.Path)
	require.Greater(t, corrupt.Position, int64(0))
	require.Equal(t, size, diskSize(t, fsys, path), "nothing changed")
	names, err := fsys.ReadDir(partitionDir)
	require.NoError(t, err)
	for _, name := range names {
		require.NotContains(t, name, segment.CleanedSuffix)
	}
	require.NoError(t, p.Err(), "the partition keeps working")
}

// gateFS holds the first write to a cleaned file until released, so that a test can
// act while a compaction is between reading and writing.
type gateFS struct {
	armed   atomic.Bool
	reached chan struct{}
	release chan struct{}
}

func newGate() *gateFS {
	return &gateFS{reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *gateFS) inject(op vfs.Op, path string) *vfs.Fault {
	if op == vfs.OpWrite && strings.HasSuffix(path, segment.LogSuffix+segment.CleanedSuffix) && g.armed.CompareAndSwap(true, false) {
		close(g.reached)
		<-g.release
	}
	return nil
}

// compactHeld runs ForceCompact in a goroutine held at its first cleaned write,
// runs during, then releases it and returns its result.
func compactHeld(t *testing.T, p *partition.Partition, g *gateFS, during func()) (partition.CompactionResult, error) {
	t.Helper()
	g.armed.Store(true)
	type result struct {
		res partition.CompactionResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := p.ForceCompact(context.Background())
		done <- result{res, err}
	}()
	<-g.reached
	during()
	close(g.release)
	r := <-done
	return r.res, r.err
}

// TestCompactConcurrentWork: a compaction held in the middle does not stop appends,
// reads or rolls; retention that deletes segments being cleaned, and truncation,
// make it give up cleanly; Close waits for it.
func TestCompactConcurrentWork(t *testing.T) {
	value := strings.Repeat("v", 80)
	setup := func(t *testing.T) (*partition.Partition, *gateFS, vfs.FS) {
		clock := newTestClock()
		g := newGate()
		fsys := vfs.NewFaulty(vfs.NewMem(), g.inject)
		p := openCompacted(t, compactOptions(fsys, clock))
		ts := clock.Millis(0)
		for i := range 12 { // four segments of three records, keys k0 k1 k2
			appendKVs(t, p, ts, kv{fmt.Sprintf("k%d", i%3), value})
			if i%3 == 2 {
				require.NoError(t, p.Roll())
			}
		}
		require.Equal(t, 5, p.Stats().Segments)
		return p, g, fsys
	}
	t.Run("appends and reads", func(t *testing.T) {
		p, g, _ := setup(t)
		res, err := compactHeld(t, p, g, func() {
			for i := range 10 {
				appendKVs(t, p, 0, kv{"new", fmt.Sprint(i)})
			}
			require.NoError(t, p.Roll())
			require.Len(t, readRecords(t, p), 22)
		})
		require.NoError(t, err)
		require.True(t, res.Compacted)
		got := describe(readRecords(t, p))
		require.Equal(t, []string{"9:k0=" + value, "10:k1=" + value, "11:k2=" + value, "12:new=0"}, got[:4])
		require.Len(t, got, 13)
	})
	t.Run("retention", func(t *testing.T) {
		p, g, _ := setup(t)
		res, err := compactHeld(t, p, g, func() {
			require.NoError(t, p.DeleteRecordsBefore(12)) // deletes every sealed segment
			require.Equal(t, 1, p.Stats().Segments)
		})
		require.NoError(t, err)
		require.False(t, res.Compacted)
		require.Empty(t, readRecords(t, p))
		require.NoError(t, p.Verify(context.Background()))
	})
	t.Run("truncation", func(t *testing.T) {
		p, g, _ := setup(t)
		res, err := compactHeld(t, p, g, func() {
			_, err := p.TruncateTo(4)
			require.NoError(t, err)
		})
		require.NoError(t, err)
		require.False(t, res.Compacted)
		require.Len(t, readRecords(t, p), 4)
		require.NoError(t, p.Roll())
		require.True(t, forceCompact(t, p).Compacted)
		require.Equal(t, []string{"1:k1=" + value, "2:k2=" + value, "3:k0=" + value}, describe(readRecords(t, p)))
	})
	t.Run("close", func(t *testing.T) {
		p, g, fsys := setup(t)
		closed := make(chan error, 1)
		_, err := compactHeld(t, p, g, func() {
			go func() { closed <- p.Close() }()
		})
		require.NoError(t, err, "a compaction that Close interrupts gives up quietly")
		require.NoError(t, <-closed)
		names, err := fsys.ReadDir(partitionDir)
		require.NoError(t, err)
		for _, name := range names {
			require.NotContains(t, name, segment.CleanedSuffix)
			require.NotContains(t, name, segment.SwapSuffix)
		}
	})
}

// TestCompactConcurrentReaders runs compactions while readers read the whole log
// over and over and a writer appends: every read sees, for each key, a value at least
// as new as the latest compacted one, offsets rise, and no read fails (run with -race).
func TestCompactConcurrentReaders(t *testing.T) {
	clock := newTestClock()
	opts := compactOptions(vfs.NewMem(), clock)
	opts.Sync = partition.SyncPolicy{Mode: partition.SyncNone}
	p := openCompacted(t, opts)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var failed atomic.Value
	fail := func(err error) {
		failed.CompareAndSwap(nil, err)
		cancel()
	}
	wg.Add(1)
	go func() { // writer
		defer wg.Done()
		for i := 0; ctx.Err() == nil && i < 3000; i++ {
			rec := partition.Record{Key: []byte(fmt.Sprintf("k%d", i%7)), Value: []byte(fmt.Sprint(i)), Timestamp: 1}
			if _, err := p.Append(ctx, []partition.Record{rec}); err != nil {
				fail(err)
				return
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				r := p.NewReader(p.StartOffset(), 512)
				last := int64(-1)
				for {
					rec, err := r.TryNext()
					if err != nil {
						fail(err)
						return
					}
					if rec == nil {
						break
					}
					if rec.Offset <= last {
						fail(fmt.Errorf("offset %d after %d", rec.Offset, last))
						return
					}
					last = rec.Offset
				}
			}
		}()
	}
	compacted := 0
	for ctx.Err() == nil && (p.EndOffset() < 3000 || compacted == 0) {
		res, err := p.ForceCompact(ctx)
		if err != nil && ctx.Err() == nil {
			fail(err)
		}
		if res.Compacted {
			compacted++
		}
	}
	cancel()
	wg.Wait()
	require.Greater(t, compacted, 0)
	if err, _ := failed.Load().(error); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	require.NoError(t, p.Verify(context.Background()))
}

// TestCompactRealFilesystem compacts on the OS filesystem, where sealed segments are
// memory-mapped: readers keep reading while the mapped segments are swapped out and
// deleted, and the compacted log reopens.
func TestCompactRealFilesystem(t *testing.T) {
	dir := t.TempDir()
	opts := &partition.Options{SegmentBytes: 4096, IndexIntervalBytes: 256, Compact: true, Sync: partition.SyncPolicy{Mode: partition.SyncNone}}
	p, err := partition.Open(dir, opts)
	require.NoError(t, err)
	ctx := context.Background()
	want := map[string]string{}
	for i := range 3000 {
		key, value := fmt.Sprintf("k%d", i%50), fmt.Sprintf("v%d-%s", i, strings.Repeat("x", i%40))
		_, err := p.Append(ctx, []partition.Record{{Key: []byte(key), Value: []byte(value), Timestamp: 1}})
		require.NoError(t, err)
		want[key] = value
	}
	require.NoError(t, p.Roll())
	before := p.Stats().Segments
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readErr atomic.Value
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := p.NewReader(0, 4096)
				for {
					rec, err := r.TryNext()
					if err != nil {
						readErr.CompareAndSwap(nil, err)
						return
					}
					if rec == nil {
						break
					}
				}
			}
		}()
	}
	res, err := p.ForceCompact(ctx)
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	if err, _ := readErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	require.True(t, res.Compacted)
	require.Less(t, p.Stats().Segments, before)
	check := func(p *partition.Partition) {
		got := map[string]string{}
		for _, r := range readRecords(t, p) {
			require.NotContains(t, got, string(r.Key), "one record per key")
			got[string(r.Key)] = string(r.Value)
		}
		require.Equal(t, want, got)
		require.NoError(t, p.Verify(ctx))
	}
	check(p)
	require.NoError(t, p.Close())
	p, err = partition.Open(dir, opts)
	require.NoError(t, err)
	defer p.Close()
	check(p)
}
