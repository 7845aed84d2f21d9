package partition_test

// Damage that CRCs cannot see: a batch's baseOffset (outside its CRC), segment files
// removed, cut at a batch boundary, or planted. strata knows what it wrote (offsets in
// a log compaction never touched follow each other; the checkpoint holds the log
// start offset, the recovery point and, after a clean shutdown, the end offset): each
// of these is a *CorruptError, at Open or at the first read of the damaged batch,
// never a silently shorter, gapped or renumbered log.

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// damageOptions: segments of a few batches, an index entry every batch or two.
func damageOptions() partition.Options {
	return partition.Options{SegmentBytes: 600, IndexIntervalBytes: 100}
}

// damagedStore returns a filesystem holding a partition of 60 records in batches of
// 3 (several sealed segments and an active one), closed cleanly or not, and the
// partition's segment bases.
func damagedStore(t *testing.T, clean bool) (*vfs.CrashableFS, []int64) {
	t.Helper()
	fsys := vfs.NewCrashable()
	p := open(t, fsys, damageOptions())
	appendN(t, p, 60, 3)
	bases := segmentBases(t, fsys)
	require.GreaterOrEqual(t, len(bases), 4)
	if clean {
		require.NoError(t, p.Close())
		return fsys, bases
	}
	image := fsys.Crash(vfs.DropUnsynced, 1) // every append was fsynced
	require.NoError(t, p.Close())
	return image, bases
}

// segmentBases lists the base offsets of the .log files in partitionDir.
func segmentBases(t *testing.T, fsys vfs.FS) []int64 {
	t.Helper()
	names, err := fsys.ReadDir(partitionDir)
	require.NoError(t, err)
	var bases []int64
	for _, name := range names {
		if base, suffix, ok := segment.ParseFileName(name); ok && suffix == segment.LogSuffix {
			bases = append(bases, base)
		}
	}
	return bases
}

// requireCorruptAtOpenOrRead opens the partition and reads it from its start: one of
// the two must fail with ErrCorrupt, and no read may return a record at an offset
// other than its own (values name their offsets).
func requireCorruptAtOpenOrRead(t *testing.T, fsys vfs.FS, what string) {
	t.Helper()
	p, err := openAt(fsys, damageOptions())
	if err != nil {
		require.ErrorIs(t, err, errs.ErrCorrupt, what)
		return
	}
	defer p.Close()
	r := p.NewReader(p.StartOffset(), 0)
	for {
		rec, err := r.TryNext()
		if err != nil {
			require.ErrorIs(t, err, errs.ErrCorrupt, what)
			require.ErrorIs(t, p.Verify(t.Context()), errs.ErrCorrupt, "%s: Verify", what)
			return
		}
		require.NotNil(t, rec, "%s: read to the end without an error", what)
		require.Equal(t, string(value(rec.Offset)), string(rec.Value), "%s: a record at the wrong offset", what)
	}
}

// TestDamageBaseOffset flips bits of one batch's baseOffset, in a sealed segment and
// in the active one: the record numbers would change without a CRC error.
func TestDamageBaseOffset(t *testing.T) {
	for _, clean := range []bool{true, false} {
		for _, target := range []int64{0, 4, 22, 31, 58} { // first batch, mid-segment, segment edges, active
			for _, flip := range []uint64{1, 2, 4, 1 << 20, 1 << 62} {
				what := fmt.Sprintf("clean=%v offset %d flip %#x", clean, target, flip)
				fsys, _ := damagedStore(t, clean)
				p, err := openAt(fsys, damageOptions())
				require.NoError(t, err)
				loc, err := p.Locate(target)
				require.NoError(t, err)
				require.NoError(t, p.Close())
				xorBytes(t, fsys, loc.Path, loc.Position, flip)
				requireCorruptAtOpenOrRead(t, fsys, what)
			}
		}
	}
}

// xorBytes flips the bits of flip in the big-endian int64 at pos of the file.
func xorBytes(t *testing.T, fsys vfs.FS, path string, pos int64, flip uint64) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	var b [8]byte
	_, err = f.ReadAt(b[:], pos)
	require.NoError(t, err)
	binary.BigEndian.PutUint64(b[:], binary.BigEndian.Uint64(b[:])^flip)
	_, err = f.WriteAt(b[:], pos)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
}

// TestDamageMissingSegment removes each segment's .log in turn (with its indexes or
// without): Open fails with ErrCorrupt instead of serving a log with a hole or a
// shorter one. After a crash, the newest segment's records lie above the recovery
// point (it moves at each roll), so the log without it still reaches that point:
// the checkpoint names the newest segment, so that its removal is seen.
func TestDamageMissingSegment(t *testing.T) {
	for _, clean := range []bool{true, false} {
		_, bases := damagedStore(t, clean)
		for i, base := range bases {
			for _, withIndexes := range []bool{true, false} {
				what := fmt.Sprintf("clean=%v segment %d of %d (base %d) removed, indexes too: %v", clean, i, len(bases), base, withIndexes)
				fsys, _ := damagedStore(t, clean)
				require.NoError(t, fsys.Remove(segment.LogPath(partitionDir, base)))
				if withIndexes {
					require.NoError(t, fsys.Remove(segment.IndexPath(partitionDir, base)))
					require.NoError(t, fsys.Remove(segment.TimeIndexPath(partitionDir, base)))
				}
				_, err := openAt(fsys, damageOptions())
				require.ErrorIs(t, err, errs.ErrCorrupt, what)
			}
		}
	}
}

// TestDamageCutAtBatchBoundary cuts a segment at a batch boundary after a clean
// shutdown or a crash: no torn batch is left, the bytes are just gone.
func TestDamageCutAtBatchBoundary(t *testing.T) {
	for _, clean := range []bool{true, false} {
		for _, target := range []int64{3, 21, 57} { // first segment, a middle one, the active one
			what := fmt.Sprintf("clean=%v cut at the batch of offset %d", clean, target)
			fsys, _ := damagedStore(t, clean)
			p, err := openAt(fsys, damageOptions())
			require.NoError(t, err)
			loc, err := p.Locate(target)
			require.NoError(t, err)
			require.NoError(t, p.Close())
			f, err := fsys.OpenFile(loc.Path, os.O_RDWR, 0)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(loc.Position))
			require.NoError(t, f.Sync())
			require.NoError(t, f.Close())
			requireCorruptAtOpenOrRead(t, fsys, what)
		}
	}
}

// TestDamageStraySegment plants an empty segment file: named far above the end it
// would move the end offset there (the next record would get that offset); named
// between two segments it would hide nothing but is still not strata's. Named exactly
// at the end offset it is what a roll leaves, and harmless.
func TestDamageStraySegment(t *testing.T) {
	for _, clean := range []bool{true, false} {
		for _, stray := range []int64{60 + 1_000_000, 61, 5} {
			what := fmt.Sprintf("clean=%v stray segment at %d", clean, stray)
			fsys, _ := damagedStore(t, clean)
			f, err := fsys.OpenFile(segment.LogPath(partitionDir, stray), os.O_RDWR|os.O_CREATE, 0o644)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			_, err = openAt(fsys, damageOptions())
			require.ErrorIs(t, err, errs.ErrCorrupt, what)
		}
		fsys, _ := damagedStore(t, clean)
		f, err := fsys.OpenFile(segment.LogPath(partitionDir, 60), os.O_RDWR|os.O_CREATE, 0o644)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		p, err := openAt(fsys, damageOptions())
		require.NoError(t, err, "clean=%v: an empty segment at the end offset", clean)
		require.Equal(t, int64(60), p.EndOffset())
		require.Equal(t, int64(60), readAll(t, p, 0))
		appendN(t, p, 3, 3)
		require.NoError(t, p.Close())
	}
}

// TestDamageAfterCrashIsNotATornTail flips one bit inside a batch of the active
// segment (all of it fsynced) and crashes: recovery, which may cut a torn tail, finds
// valid batches after the damaged one, so it is damage, not a tail, and Open fails
// instead of cutting every later acknowledged record. In the last batch the flip
// cannot be told from a torn write: it is cut, and reported as a whole batch.
func TestDamageAfterCrashIsNotATornTail(t *testing.T) {
	for _, target := range []int64{45, 51, 57} {
		fsys, _ := damagedStore(t, false)
		p, err := openAt(fsys, damageOptions())
		require.NoError(t, err)
		loc, err := p.Locate(target)
		require.NoError(t, err)
		require.NoError(t, p.Close())
		// Close wrote a clean checkpoint: crash the image of an unclean one instead.
		fsys, _ = damagedStore(t, false)
		xorBytes(t, fsys, loc.Path, loc.Position+segment.BatchHeaderSize, 1<<60)
		p, err = openAt(fsys, damageOptions())
		if target == 57 {
			require.NoError(t, err)
			report := p.RecoveryReport()
			require.Len(t, report.Truncated, 1)
			require.True(t, report.Truncated[0].Whole)
			require.Equal(t, int64(57), p.EndOffset())
			require.NoError(t, p.Close())
			continue
		}
		require.ErrorIs(t, err, errs.ErrCorrupt, "offset %d", target)
	}
}

// TestDamageMissingCheckpoint: partition.checkpoint removed from a partition holding
// records (Open writes it before the first record and only ever replaces it) is an
// error, not a partition that forgets its log start offset and recovery point.
func TestDamageMissingCheckpoint(t *testing.T) {
	for _, clean := range []bool{true, false} {
		fsys, _ := damagedStore(t, clean)
		require.NoError(t, fsys.Remove(filepath.Join(partitionDir, partition.CheckpointFile)))
		_, err := openAt(fsys, damageOptions())
		require.ErrorIs(t, err, errs.ErrCorrupt, "clean=%v", clean)
		report, err := partition.Repair(partitionDir, &partition.Options{FS: fsys}, nil)
		require.NoError(t, err)
		require.NotEmpty(t, report.Problems)
		p, err := openAt(fsys, damageOptions())
		require.NoError(t, err)
		require.Equal(t, int64(60), readAll(t, p, 0))
		require.NoError(t, p.Close())
	}
}
