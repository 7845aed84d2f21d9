//go:build linux

package partition_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/memtest"
	"github.com/stratalog/strata/partition"
)

// requireIntact checks that rec, which its Reader still promises valid, reads without
// a fault and holds value(offset).
func requireIntact(t *testing.T, rec *partition.Record, offset int64) {
	t.Helper()
	fault := memtest.Touch(rec.Value)
	require.NoError(t, fault, "reading a record the Reader still promises valid")
	require.True(t, bytes.Equal(value(offset), rec.Value), "record %d changed under its Reader: %q", offset, rec.Value)
}

// TestTruncatePreservesEveryHeldMapping: a Reader holds mapping A of the active
// segment; the segment then grows past A, so a later read replaces the segment's
// mapping by a larger B. TruncateTo must preserve A as well as B, or the bytes the
// first Reader holds through A are cut from under it (SIGBUS). Found in review.
func TestTruncatePreservesEveryHeldMapping(t *testing.T) {
	p, err := partition.Open(t.TempDir(), &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	require.NoError(t, err)
	defer p.Close()
	appendN(t, p, 2000, 500)
	r1 := p.NewReader(1500, 0)
	rec := nextRecord(t, r1) // a view of the first (1 MiB window) mapping
	requireIntact(t, rec, 1500)

	appendN(t, p, 80_000, 500) // the segment grows past 1 MiB
	r2 := p.NewReader(p.EndOffset()-1, 0)
	nextRecord(t, r2) // maps the segment again, larger

	_, err = p.TruncateTo(100)
	require.NoError(t, err)
	requireIntact(t, rec, 1500) // r1 has made no call since: rec must still be valid
}

// TestTruncateTwiceUnderAReader: the first TruncateTo preserves the cut bytes of
// mapping A; the second cuts below a record a Reader still holds through A, whose
// bytes there still came from the file: A must be preserved again. Found in review.
func TestTruncateTwiceUnderAReader(t *testing.T) {
	p, err := partition.Open(t.TempDir(), &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	require.NoError(t, err)
	defer p.Close()
	appendN(t, p, 2000, 100)
	r := p.NewReader(1500, 0)
	rec := nextRecord(t, r)

	_, err = p.TruncateTo(1800) // above rec: rec's bytes stay in the file
	require.NoError(t, err)
	requireIntact(t, rec, 1500)
	_, err = p.TruncateTo(100) // below rec
	require.NoError(t, err)
	requireIntact(t, rec, 1500)
}
