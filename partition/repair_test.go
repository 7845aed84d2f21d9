package partition_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// damages are the ways a partition of damagedStore is harmed, each making Open or
// a read fail with ErrCorrupt; stray says the damage adds something rather than
// losing anything.
var damages = []struct {
	name   string
	stray  bool
	damage func(t *testing.T, fsys vfs.FS, bases []int64, locate func(int64) partition.Location)
}{
	{"flipped baseOffset", false, func(t *testing.T, fsys vfs.FS, bases []int64, locate func(int64) partition.Location) {
		loc := locate(22)
		xorBytes(t, fsys, loc.Path, loc.Position, 4)
	}},
	{"flipped record byte", false, func(t *testing.T, fsys vfs.FS, bases []int64, locate func(int64) partition.Location) {
		loc := locate(31)
		xorBytes(t, fsys, loc.Path, loc.Position+segment.BatchHeaderSize, 1<<60)
	}},
	{"middle segment removed", false, func(t *testing.T, fsys vfs.FS, bases []int64, locate func(int64) partition.Location) {
		require.NoError(t, fsys.Remove(segment.LogPath(partitionDir, bases[1])))
	}},
	{"first segment removed", false, func(t *testing.T, fsys vfs.FS, bases []int64, locate func(int64) partition.Location) {
		require.NoError(t, fsys.Remove(segment.LogPath(partitionDir, bases[0])))
	}},
	{"segment cut at a batch boundary", false, func(t *testing.T, fsys vfs.FS, bases []int64, locate func(int64) partition.Location) {
		loc := locate(21)
		f, err := fsys.OpenFile(loc.Path, os.O_RDWR, 0)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(loc.Position))
		require.NoError(t, f.Close())
	}},
	{"stray segment far ahead", true, func(t *testing.T, fsys vfs.FS, bases []int64, locate func(int64) partition.Location) {
		f, err := fsys.OpenFile(segment.LogPath(partitionDir, 1_000_000), os.O_RDWR|os.O_CREATE, 0o644)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}},
}

// damaged returns a cleanly closed damagedStore harmed by damage.
func damaged(t *testing.T, damage func(*testing.T, vfs.FS, []int64, func(int64) partition.Location)) vfs.FS {
	fsys, bases := damagedStore(t, true)
	p, err := openAt(fsys, damageOptions())
	require.NoError(t, err)
	locate := func(o int64) partition.Location {
		loc, err := p.Locate(o)
		require.NoError(t, err)
		return loc
	}
	damage(t, fsys, bases, locate)
	require.NoError(t, p.Close())
	return fsys
}

// snapshot returns every file of the partition directory with its content.
func snapshot(t *testing.T, fsys vfs.FS) map[string]string {
	t.Helper()
	files := map[string]string{}
	names, err := fsys.ReadDir(partitionDir)
	require.NoError(t, err)
	for _, name := range names {
		data, err := vfs.ReadFile(fsys, filepath.Join(partitionDir, name))
		require.NoError(t, err)
		files[name] = string(data)
	}
	return files
}

// TestScrubFindsDamageAndChangesNothing: Scrub reports each damage, in a partition
// that is not open, and leaves every file as it was; a healthy partition has no
// problems.
func TestScrubFindsDamageAndChangesNothing(t *testing.T) {
	fsys, _ := damagedStore(t, true)
	report, err := partition.Scrub(partitionDir, &partition.Options{FS: fsys})
	require.NoError(t, err)
	require.Empty(t, report.Problems)
	require.Positive(t, report.Batches)
	for _, d := range damages {
		fsys := damaged(t, d.damage)
		before := snapshot(t, fsys)
		opts := damageOptions()
		opts.FS = fsys
		report, err := partition.Scrub(partitionDir, &opts)
		require.NoError(t, err, d.name)
		require.NotEmpty(t, report.Problems, d.name)
		for _, problem := range report.Problems {
			require.ErrorIs(t, problem, errs.ErrCorrupt, d.name)
		}
		require.Equal(t, before, snapshot(t, fsys), "%s: Scrub changed the directory", d.name)
	}
}

// TestRepair repairs each damage, truncating at the first problem or keeping what
// follows: the copy of what it removes is kept, it says which offsets it gave up, the
// partition opens and reads without an error, every record still read is at its own
// offset, the end offset never goes back, and a second Repair finds nothing.
func TestRepair(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) }
	for _, keepLater := range []bool{false, true} {
		for _, d := range damages {
			what := fmt.Sprintf("%s (keep later: %v)", d.name, keepLater)
			fsys := damaged(t, d.damage)
			opts := damageOptions()
			opts.FS = fsys
			report, err := partition.Repair(partitionDir, &opts, &partition.RepairOptions{KeepLater: keepLater, Now: now})
			require.NoError(t, err, what)
			require.NotEmpty(t, report.Problems, what)
			require.NotEmpty(t, report.Actions, what)
			if report.KeepDir != "" { // "": nothing was removed (offsets missing at the start)
				require.Equal(t, filepath.Join(partitionDir, "repair-20261204T120000.000000000Z"), report.KeepDir, what)
				kept, err := fsys.ReadDir(report.KeepDir)
				require.NoError(t, err, what)
				require.NotEmpty(t, kept, "%s: nothing kept", what)
			}
			var lost int64
			for _, r := range report.Lost {
				lost += r.To - r.From
			}
			if d.stray {
				require.Empty(t, report.Lost, what)
			} else {
				require.NotEmpty(t, report.Lost, what)
			}
			require.GreaterOrEqual(t, report.EndOffset, int64(60), "%s: the end offset went back", what)

			p, err := openAt(fsys, damageOptions())
			require.NoError(t, err, what)
			require.Equal(t, report.EndOffset, p.EndOffset(), what)
			r := p.NewReader(p.StartOffset(), 0)
			var read int64
			for {
				rec, err := r.TryNext()
				require.NoError(t, err, what)
				if rec == nil {
					break
				}
				require.Equal(t, string(value(rec.Offset)), string(rec.Value), "%s: a record at the wrong offset", what)
				for _, l := range report.Lost {
					require.False(t, rec.Offset >= l.From && rec.Offset < l.To, "%s: offset %d read but reported lost", what, rec.Offset)
				}
				read++
			}
			require.Equal(t, p.EndOffset(), r.Offset(), "%s: the reader stops short of the end, in the gap", what)
			if !d.stray {
				require.Equal(t, int64(60)-lost, read, "%s: lost %v", what, report.Lost)
			}
			first, err := p.Append(t.Context(), []partition.Record{{Value: []byte("after repair"), Timestamp: 1}})
			require.NoError(t, err, what)
			require.Equal(t, report.EndOffset, first, what)
			require.NoError(t, p.Close())

			again, err := partition.Repair(partitionDir, &opts, nil)
			require.NoError(t, err, what)
			require.Empty(t, again.Problems, "%s: %v", what, again.Problems)
			if keepLater && !d.stray {
				require.Less(t, lost, int64(60)-3, "%s: keeping later segments lost most of the log: %v", what, report.Lost)
			}
		}
	}
	_ = strings.Join
	_ = slices.Sort[[]int]
}
