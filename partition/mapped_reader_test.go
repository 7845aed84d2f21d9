package partition_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
)

// nextRecord returns the Reader's next record, which must exist.
func nextRecord(t *testing.T, r *partition.Reader) *partition.Record {
	t.Helper()
	rec, err := r.TryNext()
	require.NoError(t, err)
	require.NotNil(t, rec)
	return rec
}

// TestMappedReaderKeepsItsBytes checks, on the OS filesystem (where a Reader reads
// straight from memory mappings of segments), that a record a Reader returned stays
// intact until the Reader's next call whatever happens to its segment meanwhile: the
// partition truncating it, retention deleting it, Close. Each step runs garbage
// collections, which unmap mappings nobody holds: without the Reader's hold the
// record's bytes would fault or read as zeros.
func TestMappedReaderKeepsItsBytes(t *testing.T) {
	gc := func() {
		for range 2 {
			runtime.GC()
		}
	}
	opts := &partition.Options{SegmentBytes: 64 << 10, IndexIntervalBytes: 256}

	t.Run("truncated", func(t *testing.T) {
		p, err := partition.Open(t.TempDir(), opts)
		require.NoError(t, err)
		defer p.Close()
		appendN(t, p, 300, 10) // one active segment
		r := p.NewReader(250, 0)
		rec := nextRecord(t, r)
		_, err = p.TruncateTo(200)
		require.NoError(t, err)
		appendN(t, p, 100, 10) // new bytes where the truncated ones were
		gc()
		require.Equal(t, int64(250), rec.Offset)
		require.Equal(t, value(250), rec.Value)
		_, err = r.TryNext() // the Reader's next record was truncated then rewritten
		require.NoError(t, err)
	})

	t.Run("deleted by retention", func(t *testing.T) {
		p, err := partition.Open(t.TempDir(), opts)
		require.NoError(t, err)
		defer p.Close()
		appendN(t, p, 20_000, 10)
		require.Greater(t, p.Stats().Segments, 3)
		r := p.NewReader(10, 0)
		rec := nextRecord(t, r)
		require.NoError(t, p.DeleteRecordsBefore(15_000))
		require.Less(t, p.Stats().Segments, 4)
		gc()
		require.Equal(t, value(10), rec.Value)
	})

	t.Run("closed", func(t *testing.T) {
		p, err := partition.Open(t.TempDir(), opts)
		require.NoError(t, err)
		appendN(t, p, 5000, 10)
		readers := []*partition.Reader{p.NewReader(5, 0), p.NewReader(4990, 0)} // sealed, active
		recs := []*partition.Record{nextRecord(t, readers[0]), nextRecord(t, readers[1])}
		require.NoError(t, p.Close())
		gc()
		require.Equal(t, value(5), recs[0].Value)
		require.Equal(t, value(4990), recs[1].Value)
	})
}

// TestMappedReaderFollowsGrowth checks that a Reader following the tail of the active
// segment keeps reading correctly as the segment grows past the mapping it was first
// read through (the mapping is replaced by larger ones).
func TestMappedReaderFollowsGrowth(t *testing.T) {
	p, err := partition.Open(t.TempDir(), &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	require.NoError(t, err)
	defer p.Close()
	r := p.NewReader(0, 64<<10)
	var next int64
	for range 40 { // 40 rounds of ~100 KB: past the first 1 MiB mapping and its successor
		appendN(t, p, 5000, 500)
		for {
			rec, err := r.TryNext()
			require.NoError(t, err)
			if rec == nil {
				break
			}
			require.Equal(t, next, rec.Offset)
			require.Equal(t, value(next), rec.Value)
			next++
		}
	}
	require.Equal(t, p.EndOffset(), next)
	require.Equal(t, 1, p.Stats().Segments)
}
