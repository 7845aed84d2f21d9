package partition_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

func TestRetentionBySize(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 4096, RetentionBytes: 16 << 10}
	p := open(t, fsys, opts)
	appendN(t, p, 3000, 10)
	st := p.Stats()
	require.Greater(t, st.StartOffset, int64(0), "old segments were deleted on roll")
	require.GreaterOrEqual(t, st.Bytes, int64(16<<10), "retention keeps at least RetentionBytes")
	require.Less(t, st.Bytes, int64(16<<10)+2*4096)
	require.Equal(t, int64(3000)-st.StartOffset, readAll(t, p, st.StartOffset))
	_, err := p.Read(st.StartOffset-1, 0, 0)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
	require.NoError(t, p.Close())

	p = open(t, fsys, opts)
	defer p.Close()
	require.Equal(t, st.StartOffset, p.StartOffset(), "start offset survives restart")
}

func TestRetentionByAge(t *testing.T) {
	now := mustTime(t, "2026-11-21T00:00:00Z")
	clock := func() time.Time { return now }
	p := open(t, vfs.NewMem(), partition.Options{RetentionAge: time.Hour, Now: clock})
	defer p.Close()
	ctx := context.Background()
	for i := range 5 { // five segments, one per batch, ten minutes apart
		_, err := p.Append(ctx, []partition.Record{{Value: value(int64(i)), Timestamp: now.UnixMilli()}})
		require.NoError(t, err)
		require.NoError(t, p.Roll())
		now = now.Add(10 * time.Minute)
	}
	n, err := p.ApplyRetention()
	require.NoError(t, err)
	require.Zero(t, n, "nothing is an hour old yet")
	now = now.Add(25 * time.Minute) // record i is now 75-10i minutes old
	n, err = p.ApplyRetention()
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, int64(2), p.StartOffset())
	now = now.Add(24 * time.Hour)
	n, err = p.ApplyRetention()
	require.NoError(t, err)
	require.Equal(t, 3, n, "every sealed segment expires; the active one stays")
	require.Equal(t, int64(5), p.StartOffset())
	require.Equal(t, int64(5), p.EndOffset())
}

func TestDeleteRecordsBefore(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 2048}
	p := open(t, fsys, opts)
	appendN(t, p, 500, 5)
	segments := p.Stats().Segments
	require.NoError(t, p.DeleteRecordsBefore(250))
	require.Equal(t, int64(250), p.StartOffset())
	require.Less(t, p.Stats().Segments, segments, "segments wholly below 250 are gone")
	_, err := p.Read(249, 0, 0)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
	got, err := p.Read(250, 1, 0)
	require.NoError(t, err)
	require.Equal(t, int64(250), got[0].Offset)
	require.ErrorIs(t, p.DeleteRecordsBefore(501), partition.ErrOffsetOutOfRange)
	require.NoError(t, p.DeleteRecordsBefore(10), "below the start: nothing changes")
	require.Equal(t, int64(250), p.StartOffset())
	require.NoError(t, p.Close())

	p = open(t, fsys, opts)
	require.Equal(t, int64(250), p.StartOffset(), "survives restart")
	require.Equal(t, int64(250), readAll(t, p, 250))
	require.NoError(t, p.DeleteRecordsBefore(500))
	require.Equal(t, int64(500), p.StartOffset())
	require.NoError(t, p.Close())
	p = open(t, fsys, opts)
	defer p.Close()
	require.Equal(t, int64(500), p.StartOffset())
	require.Equal(t, int64(500), p.EndOffset())
	appendN(t, p, 1, 1)
}

func TestRollOnSizeAndAge(t *testing.T) {
	now := mustTime(t, "2026-11-21T00:00:00Z")
	p := open(t, vfs.NewMem(), partition.Options{SegmentBytes: 1000, SegmentAge: time.Minute, Now: func() time.Time { return now }})
	defer p.Close()
	appendN(t, p, 1, 1)
	require.Equal(t, 1, p.Stats().Segments)
	now = now.Add(time.Minute)
	appendN(t, p, 1, 1)
	require.Equal(t, 2, p.Stats().Segments, "rolled on age")
	appendN(t, p, 60, 1)
	st := p.Stats()
	require.Greater(t, st.Segments, 3, "rolled on size")
	require.Less(t, st.Bytes/int64(st.Segments), int64(1000))
	require.Equal(t, int64(62), readAll(t, p, 0))
}

func TestRollOnIndexFull(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{IndexIntervalBytes: 1, MaxIndexBytes: 96})
	defer p.Close()
	appendN(t, p, 40, 1)
	require.Greater(t, p.Stats().Segments, 3, "a full index rolls the segment")
	require.Equal(t, int64(40), readAll(t, p, 0))
}

func TestOffsetForTime(t *testing.T) {
	p := open(t, vfs.NewMem(), partition.Options{SegmentBytes: 1024, IndexIntervalBytes: 100})
	defer p.Close()
	appendN(t, p, 300, 3) // record o has timestamp 1000+o
	for _, tc := range []struct {
		ts    int64
		want  int64
		found bool
	}{{0, 0, true}, {1000, 0, true}, {1001, 1, true}, {1150, 150, true}, {1299, 299, true}, {1300, 300, false}} {
		off, found, err := p.OffsetForTime(tc.ts)
		require.NoError(t, err)
		require.Equal(t, tc.found, found, "ts %d", tc.ts)
		require.Equal(t, tc.want, off, "ts %d", tc.ts)
	}
	require.NoError(t, p.DeleteRecordsBefore(100))
	off, found, err := p.OffsetForTime(1000)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(100), off, "never below the start offset")
}

func TestTruncateTo(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 1024}
	p := open(t, fsys, opts)
	appendN(t, p, 200, 4) // batches of 4: 0-3, 4-7, ...
	end, err := p.TruncateTo(102)
	require.NoError(t, err)
	require.Equal(t, int64(100), end, "the batch 100-103 straddles 102 and goes whole")
	require.Equal(t, int64(100), p.EndOffset())
	require.Equal(t, int64(100), readAll(t, p, 0))
	_, err = p.Read(101, 0, 0)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
	_, err = p.TruncateTo(101)
	require.ErrorIs(t, err, partition.ErrOffsetOutOfRange)
	appendN(t, p, 10, 3)
	require.NoError(t, p.Close())

	p = open(t, fsys, opts)
	defer p.Close()
	require.Equal(t, int64(110), readAll(t, p, 0))
	end, err = p.TruncateTo(0)
	require.NoError(t, err)
	require.Zero(t, end)
	appendN(t, p, 5, 5)
	require.Equal(t, int64(5), readAll(t, p, 0))
}

func TestInvalidOptions(t *testing.T) {
	_, err := partition.Open(t.TempDir(), &partition.Options{
		SegmentBytes: -1, RetentionAge: -time.Second, Sync: partition.SyncPolicy{Mode: partition.SyncPeriodic},
	})
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
	for _, field := range []string{"SegmentBytes", "RetentionAge", "SyncPeriodic"} {
		require.Contains(t, err.Error(), field, "every bad field is named")
	}
}
