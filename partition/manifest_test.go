package partition_test

// The manifest of sealed segments (partition.checkpoint version 3): a sealed segment
// replaced by another whose batches are each valid and whose offsets and size fit
// (another partition's, an old backup's) is a *CorruptError, never records served
// as this partition's.

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// otherDir holds a partition laid out exactly like the one in partitionDir (same
// offsets, batches and sizes), whose values differ as other says.
const otherDir = "/data/orders-1"

// twinStores returns a filesystem holding, in partitionDir, the partition of
// damagedStore (60 records of value(o), batches of 3) and, in otherDir, its twin
// whose record at offset o has the value other(o) (of the same length), closed
// cleanly or not; and the bases of the segments.
func twinStores(t *testing.T, clean bool, other func(o int64) []byte) (*vfs.CrashableFS, []int64) {
	t.Helper()
	fsys := vfs.NewCrashable()
	var ps []*partition.Partition
	for _, dir := range []string{partitionDir, otherDir} {
		opts := damageOptions()
		opts.FS = fsys
		p, err := partition.Open(dir, &opts)
		require.NoError(t, err)
		ps = append(ps, p)
		for o := int64(0); o < 60; o += 3 {
			records := make([]partition.Record, 3)
			for i := range records {
				v := value(o + int64(i))
				if dir == otherDir {
					v = other(o + int64(i))
				}
				require.Len(t, v, len(value(o+int64(i))))
				records[i] = partition.Record{Key: []byte(fmt.Sprint((o + int64(i)) % 7)), Value: v, Timestamp: 1_000 + o + int64(i)}
			}
			_, err := p.Append(context.Background(), records)
			require.NoError(t, err)
		}
	}
	bases := segmentBases(t, fsys)
	require.GreaterOrEqual(t, len(bases), 4)
	image := fsys
	if !clean {
		image = fsys.Crash(vfs.DropUnsynced, 1) // every append was fsynced
	}
	for _, p := range ps {
		require.NoError(t, p.Close())
	}
	return image, bases
}

// replaceSegment copies the segment at base of otherDir over partitionDir's, its
// indexes too or not.
func replaceSegment(t *testing.T, fsys vfs.FS, base int64, withIndexes bool) {
	t.Helper()
	paths := []func(string, int64) string{segment.LogPath}
	if withIndexes {
		paths = append(paths, segment.IndexPath, segment.TimeIndexPath)
	}
	for _, path := range paths {
		data, err := vfs.ReadFileLimit(fsys, path(otherDir, base), 1<<20)
		require.NoError(t, err)
		require.NoError(t, vfs.WriteFileAtomic(fsys, path(partitionDir, base), data))
	}
}

// A sealed segment replaced by its twin's, of the same offsets and size, whose
// every value differs: Open fails (the edges of the manifest differ), with the
// indexes copied along or not. Before the manifest, the twin's records were served.
func TestManifestReplacedSegmentFailsOpen(t *testing.T) {
	upper := func(o int64) []byte { return bytes.ToUpper(value(o)) }
	for _, clean := range []bool{true, false} {
		_, bases := twinStores(t, clean, upper)
		for _, base := range bases[:len(bases)-1] { // the sealed ones
			for _, withIndexes := range []bool{false, true} {
				what := fmt.Sprintf("clean=%v segment %d indexes %v", clean, base, withIndexes)
				fsys, _ := twinStores(t, clean, upper)
				replaceSegment(t, fsys, base, withIndexes)
				_, err := openAt(fsys, damageOptions())
				require.ErrorIs(t, err, errs.ErrCorrupt, what)
				require.ErrorContains(t, err, "differ from those sealed", what)
			}
		}
	}
}

// A sealed segment replaced by its twin's that differs only in a batch in its
// middle: Open, which reads only the first batch and those after the last index
// entry, cannot tell (the limit FORMAT.md states); Verify and Scrub do, from the
// digest the manifest records, and Repair moves the segment away and covers its
// offsets.
func TestManifestReplacedSegmentFailsVerify(t *testing.T) {
	for _, clean := range []bool{true, false} {
		_, bases := twinStores(t, clean, value)
		base := bases[1]
		middle := func(o int64) []byte {
			if o == base+3 { // the segment's second batch
				return []byte(fmt.Sprintf("VALUE-%d", o))
			}
			return value(o)
		}
		fsys, _ := twinStores(t, clean, middle)
		replaceSegment(t, fsys, base, true)
		opts := damageOptions()
		opts.FS = fsys
		p, err := partition.Open(partitionDir, &opts)
		require.NoError(t, err, "clean=%v", clean)
		err = p.Verify(t.Context())
		require.ErrorIs(t, err, errs.ErrCorrupt, "clean=%v", clean)
		require.ErrorContains(t, err, "differ from those written")
		require.NoError(t, p.Close())

		report, err := partition.Scrub(partitionDir, &opts)
		require.NoError(t, err)
		require.Len(t, report.Problems, 1, "clean=%v: %v", clean, report.Problems)
		require.ErrorIs(t, report.Problems[0], errs.ErrCorrupt)
		require.ErrorContains(t, report.Problems[0], "differ from those sealed")

		repaired, err := partition.Repair(partitionDir, &opts, &partition.RepairOptions{KeepLater: true, KeepDir: "/keep"})
		require.NoError(t, err)
		next := bases[2]
		require.Equal(t, []partition.OffsetRange{{From: base, To: next}}, repaired.Lost, "clean=%v", clean)
		_, err = fsys.Stat(filepath.Join("/keep", segment.FileName(base, segment.LogSuffix)))
		require.NoError(t, err, "the replaced segment is kept")
		p, err = partition.Open(partitionDir, &opts)
		require.NoError(t, err)
		require.NoError(t, p.Verify(t.Context()))
		r := p.NewReader(0, 0)
		for {
			rec, err := r.TryNext()
			require.NoError(t, err)
			if rec == nil {
				break
			}
			require.False(t, rec.Offset >= base && rec.Offset < next, "offset %d was given up", rec.Offset)
			require.Equal(t, value(rec.Offset), rec.Value)
		}
		require.NoError(t, p.Close())
	}
}

// A partition whose checkpoint predates the manifest (version 2) opens, unchecked,
// and its next checkpoint lists every sealed segment.
func TestManifestUpgradesVersion2(t *testing.T) {
	fsys, bases := damagedStore(t, true)
	path := filepath.Join(partitionDir, partition.CheckpointFile)
	data, err := vfs.ReadFileLimit(fsys, path, 1<<20)
	require.NoError(t, err)
	require.Contains(t, string(data), "strata-partition-checkpoint 3\n")
	require.NoError(t, vfs.WriteFileAtomic(fsys, path, partition.DowngradeCheckpoint(t, data)))

	p, err := openAt(fsys, damageOptions())
	require.NoError(t, err)
	require.Equal(t, int64(60), readAll(t, p, 0))
	appendN(t, p, 1, 1)
	require.NoError(t, p.Close())
	data, err = vfs.ReadFileLimit(fsys, path, 1<<20)
	require.NoError(t, err)
	require.Contains(t, string(data), "strata-partition-checkpoint 3\n")
	for _, base := range bases {
		require.Contains(t, string(data), fmt.Sprintf("\nsegment-%d ", base))
	}
}

// After a power loss, the newest segment replaced by its twin's (same base, its
// offsets fitting): the manifest lists only sealed segments, but the mark recorded
// with the recovery point (DurablePoint: the newest segment's base and first batch)
// tells it from the segment fsynced there. Without the mark it opens as before.
func TestNewestSegmentMarkCatchesReplacedNewestSegment(t *testing.T) {
	fsys := vfs.NewCrashable()
	var ps []*partition.Partition
	for _, dir := range []string{partitionDir, otherDir} {
		opts := damageOptions()
		opts.FS = fsys
		p, err := partition.Open(dir, &opts)
		require.NoError(t, err)
		ps = append(ps, p)
		for o := int64(0); o < 50; o += 3 {
			records := make([]partition.Record, 3)
			for i := range records {
				v := value(o + int64(i))
				if dir == otherDir {
					v = bytes.ToUpper(v)
				}
				records[i] = partition.Record{Key: []byte(fmt.Sprint((o + int64(i)) % 7)), Value: v, Timestamp: 1_000 + o + int64(i)}
			}
			_, err := p.Append(context.Background(), records)
			require.NoError(t, err)
		}
	}
	point, mark, marked := ps[0].DurablePoint()
	require.True(t, marked)
	require.Equal(t, ps[0].EndOffset(), point)
	bases := segmentBases(t, fsys)
	newest := bases[len(bases)-1]
	require.Equal(t, newest, mark.Base, "the mark names the newest segment")
	crashed := fsys.Crash(vfs.DropUnsynced, 1) // every append was fsynced
	for _, p := range ps {
		require.NoError(t, p.Close())
	}
	image := crashed.Crash(vfs.DropUnsynced, 0) // a copy
	replaceSegment(t, image, newest, false)

	opts := damageOptions()
	opts.FS = image
	opts.RecoveryPoint = point
	p, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err, "without the mark, nothing tells the twin's segment from this one's")
	require.NoError(t, p.Close())

	image = crashed.Crash(vfs.DropUnsynced, 0)
	replaceSegment(t, image, newest, false)
	opts.FS = image
	opts.RecoveryPointSegment = &mark
	_, err = partition.Open(partitionDir, &opts)
	require.ErrorIs(t, err, errs.ErrCorrupt)
	require.ErrorContains(t, err, "does not begin with the batch fsynced there")
	report, err := partition.Scrub(partitionDir, &opts)
	require.NoError(t, err)
	require.Len(t, report.Problems, 1, "%v", report.Problems)
	repaired, err := partition.Repair(partitionDir, &opts, &partition.RepairOptions{KeepDir: "/keep"})
	require.NoError(t, err)
	require.Equal(t, []partition.OffsetRange{{From: newest, To: point}}, repaired.Lost)
	q, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err, "repaired: its checkpoint is clean, the mark no longer applies")
	require.Equal(t, point, q.EndOffset())
	require.NoError(t, q.Close())

	// The segment fsynced there, with the mark: no false alarm.
	opts.FS = crashed.Crash(vfs.DropUnsynced, 0)
	q, err = partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	require.Equal(t, int64(51), readAll(t, q, 0))
	require.NoError(t, q.Close())
}
