package partition_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
)

// TestRealFilesystem runs the main paths on the OS filesystem, where sealed segments
// are read through memory mappings: reads and lookups across sealed segments,
// Verify, truncation into a sealed (mapped) segment, retention deleting mapped
// segments, and reopening.
func TestRealFilesystem(t *testing.T) {
	dir := t.TempDir()
	opts := &partition.Options{SegmentBytes: 4096, IndexIntervalBytes: 256}
	p, err := partition.Open(dir, opts)
	require.NoError(t, err)
	appendN(t, p, 2000, 10)
	require.Greater(t, p.Stats().Segments, 5)
	require.Equal(t, int64(2000), readAll(t, p, 0))
	for _, o := range []int64{0, 9, 10, 777, 1999} {
		loc, err := p.Locate(o)
		require.NoError(t, err)
		require.LessOrEqual(t, loc.BatchBase, o)
		require.GreaterOrEqual(t, loc.BatchLast, o)
	}
	off, found, err := p.OffsetForTime(1000 + 1234)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(1234), off)
	require.NoError(t, p.Verify(context.Background()))

	end, err := p.TruncateTo(1005) // inside a sealed segment
	require.NoError(t, err)
	require.Equal(t, int64(1000), end)
	appendN(t, p, 500, 10)
	require.Equal(t, int64(1500), readAll(t, p, 0))
	require.NoError(t, p.DeleteRecordsBefore(700))
	require.Equal(t, int64(800), readAll(t, p, 700))
	require.NoError(t, p.Close())

	p, err = partition.Open(dir, opts)
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, int64(700), p.StartOffset())
	require.Equal(t, int64(800), readAll(t, p, 700))
	require.NoError(t, p.Verify(context.Background()))
}
