package partition_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// value returns the value stored at offset o by the helpers below.
func value(o int64) []byte { return []byte(fmt.Sprintf("value-%d", o)) }

// appendN appends n records in batches of at most batch records, values value(o).
func appendN(t testing.TB, p *partition.Partition, n, batch int) {
	t.Helper()
	ctx := context.Background()
	next := p.WrittenOffset()
	records := make([]partition.Record, 0, batch)
	for n > 0 {
		k := min(n, batch)
		records = records[:0]
		for i := range k {
			o := next + int64(i)
			records = append(records, partition.Record{Key: []byte(fmt.Sprint(o % 7)), Value: value(o), Timestamp: 1_000 + o})
		}
		first, err := p.Append(ctx, records)
		require.NoError(t, err)
		require.Equal(t, next, first)
		next += int64(k)
		n -= k
	}
}

// readAll reads every record from offset to the end and checks offsets are
// contiguous and values match value(o).
func readAll(t testing.TB, p *partition.Partition, from int64) int64 {
	t.Helper()
	r := p.NewReader(from, 0)
	want := from
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			break
		}
		require.Equal(t, want, rec.Offset)
		require.Equal(t, value(rec.Offset), rec.Value)
		want++
	}
	require.Equal(t, p.EndOffset(), want)
	return want - from
}

func open(t testing.TB, fsys vfs.FS, opts partition.Options) *partition.Partition {
	t.Helper()
	opts.FS = fsys
	p, err := partition.Open("/data/orders-0", &opts)
	require.NoError(t, err)
	return p
}

func TestAppendReadRoundTrip(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{})
	defer p.Close()
	ctx := context.Background()
	first, err := p.Append(ctx, []partition.Record{
		{Key: []byte("k"), Value: []byte("v"), Timestamp: 42, Headers: []partition.Header{{Key: "h", Value: []byte("x")}}},
		{Key: nil, Value: nil, Timestamp: 43},
	})
	require.NoError(t, err)
	require.Equal(t, int64(0), first)
	got, err := p.Read(0, 0, 1<<20)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, partition.Record{Offset: 0, Timestamp: 42, Key: []byte("k"), Value: []byte("v"), Headers: []partition.Header{{Key: "h", Value: []byte("x")}}}, got[0])
	require.Equal(t, int64(1), got[1].Offset)
	require.Nil(t, got[1].Key)
	require.Nil(t, got[1].Value)
	require.Equal(t, int64(2), p.EndOffset())

	got, err = p.Read(1, 0, 1<<20)
	require.NoError(t, err)
	require.Len(t, got, 1, "records below the offset asked for are skipped")
	got, err = p.Read(2, 0, 1<<20)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestZeroTimestampMeansNow(t *testing.T) {
	now := mustTime(t, "2026-11-21T12:00:00Z")
	p := open(t, vfs.NewMem(), partition.Options{Now: func() time.Time { return now }})
	defer p.Close()
	records := []partition.Record{{Value: []byte("a")}}
	_, err := p.Append(context.Background(), records)
	require.NoError(t, err)
	require.Zero(t, records[0].Timestamp, "the caller's records are not modified")
	got, err := p.Read(0, 0, 0)
	require.NoError(t, err)
	require.Equal(t, now.UnixMilli(), got[0].Timestamp)
}

// TestSeedLookup is the seed document's example: segment files 00000000000000000000,
// 00000000000000368769 and 00000000000000737337; offset 368776 lives in
// 00000000000000368769.log. Each boundary around it is checked, with the index entry
// the lookup starts from.
func TestSeedLookup(t *testing.T) {
	fsys := vfs.NewMem()
	p := open(t, fsys, partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	defer p.Close()
	appendN(t, p, 368769, 100)
	require.NoError(t, p.Roll())
	appendN(t, p, 737337-368769, 100)
	require.NoError(t, p.Roll())
	appendN(t, p, 1000, 100)

	names, err := fsys.ReadDir("/data/orders-0")
	require.NoError(t, err)
	require.Subset(t, names, []string{
		"00000000000000000000.log", "00000000000000000000.index", "00000000000000000000.timeindex",
		"00000000000000368769.log", "00000000000000368769.index", "00000000000000368769.timeindex",
		"00000000000000737337.log", "00000000000000737337.index", "00000000000000737337.timeindex",
	})
	for _, tc := range []struct {
		offset int64
		file   string
	}{
		{0, "00000000000000000000.log"},
		{368768, "00000000000000000000.log"},
		{368769, "00000000000000368769.log"},
		{368776, "00000000000000368769.log"},
		{737336, "00000000000000368769.log"},
		{737337, "00000000000000737337.log"},
		{738336, "00000000000000737337.log"},
	} {
		t.Run(fmt.Sprint(tc.offset), func(t *testing.T) {
			loc, err := p.Locate(tc.offset)
			require.NoError(t, err)
			require.Equal(t, tc.file, filepath.Base(loc.Path))
			require.LessOrEqual(t, loc.BatchBase, tc.offset)
			require.GreaterOrEqual(t, loc.BatchLast, tc.offset)
			require.LessOrEqual(t, loc.Base, loc.IndexEntry)
			require.LessOrEqual(t, loc.IndexEntry, tc.offset, "the index floor entry is at or below the target")
			got, err := p.Read(tc.offset, 1, 1)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, tc.offset, got[0].Offset)
			require.Equal(t, value(tc.offset), got[0].Value)
		})
	}
	_, err = p.Locate(738337)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
}

func TestReopenRestoresEverything(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 16 << 10}
	p := open(t, fsys, opts)
	appendN(t, p, 5000, 10)
	before := p.Stats()
	require.Greater(t, before.Segments, 3)
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "Close is idempotent")
	_, err := p.Append(context.Background(), []partition.Record{{Value: []byte("x")}})
	require.ErrorIs(t, err, partition.ErrClosed)

	p = open(t, fsys, opts)
	defer p.Close()
	require.True(t, p.RecoveryReport().CleanShutdown)
	after := p.Stats()
	require.Equal(t, before.Segments, after.Segments)
	require.Equal(t, before.Bytes, after.Bytes)
	require.Equal(t, int64(5000), p.EndOffset())
	require.Equal(t, int64(5000), readAll(t, p, 0))
	appendN(t, p, 10, 10)
	require.Equal(t, int64(5010), p.EndOffset())
}

func TestOutOfRange(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{})
	defer p.Close()
	appendN(t, p, 10, 10)
	_, err := p.Read(11, 0, 0)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
	_, err = p.Read(-1, 0, 0)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
	_, err = p.ReadBatches(nil, 11, 0)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
	_, err = p.Append(context.Background(), nil)
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
}

func TestRecordTooLarge(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{MaxBatchBytes: 1024})
	defer p.Close()
	_, err := p.Append(context.Background(), []partition.Record{{Value: make([]byte, 2000)}})
	require.ErrorIs(t, err, partition.ErrRecordTooLarge)
	require.Equal(t, int64(0), p.WrittenOffset(), "nothing written")
	require.Equal(t, int64(0), p.Stats().Bytes)
	appendN(t, p, 1, 1) // still usable
}

func TestReaderFollowsTail(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{})
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan int64)
	go func() {
		r := p.NewReader(0, 0)
		for {
			rec, err := r.Next(ctx)
			if err != nil {
				close(got)
				return
			}
			got <- rec.Offset
		}
	}()
	for i := range int64(20) {
		appendN(t, p, 1, 1)
		require.Equal(t, i, <-got)
	}
	cancel()
	_, ok := <-got
	require.False(t, ok)
}

func TestWaitReturnsOnClose(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{})
	errc := make(chan error)
	go func() { errc <- p.Wait(context.Background(), 0) }()
	require.NoError(t, p.Close())
	require.ErrorIs(t, <-errc, partition.ErrClosed)
}
