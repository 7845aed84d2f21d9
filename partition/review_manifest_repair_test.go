package partition_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// runningCrashedStore returns damagedStore's partition as an unclean shutdown leaves
// it after a recovery: Open wrote the checkpoint (recovery point at the end of the
// log, not clean, the manifest of the sealed segments) and the process died.
func runningCrashedStore(t *testing.T) *vfs.CrashableFS {
	t.Helper()
	image, _ := damagedStore(t, false)
	p, err := openAt(image, damageOptions())
	require.NoError(t, err)
	again := image.Crash(vfs.DropUnsynced, 2)
	require.NoError(t, p.Close())
	return again
}

// TestReviewManifestRepairResumedKeepsWhatItCut: Repair of a bit flipped in a batch of
// a sealed segment cuts that segment at the damaged batch (and, by default, moves the
// later segments away). When the checkpoint already records the end offset (an
// unclean shutdown after a recovery), Repair writes no checkpoint before it changes
// files, so the old manifest, which lists the segment as it was sealed, stays until
// Repair's last step. Interrupted after the cut (here: its last checkpoint write
// fails; a crash there is the same), the resumed Repair finds the cut segment unlike
// its manifest entry ("not the segment written here") and moves it away whole: the
// valid batches before the damage, which the first Repair kept, are given up.
func TestReviewManifestRepairResumedKeepsWhatItCut(t *testing.T) {
	const target = 22 // in a sealed segment, not its first batch
	locate := func() partition.Location {
		image := runningCrashedStore(t)
		p, err := openAt(image, damageOptions())
		require.NoError(t, err)
		defer p.Close()
		loc, err := p.Locate(target)
		require.NoError(t, err)
		return loc
	}
	loc := locate()
	damage := func() *vfs.CrashableFS {
		image := runningCrashedStore(t)
		xorBytes(t, image, loc.Path, loc.Position+segment.BatchHeaderSize, 1<<60)
		opts := damageOptions()
		opts.FS = image
		report, err := partition.Scrub(partitionDir, &opts)
		require.NoError(t, err)
		require.Len(t, report.Problems, 1)
		require.ErrorIs(t, report.Problems[0], errs.ErrCorrupt)
		return image
	}

	for _, keepLater := range []bool{false, true} {
		ropts := &partition.RepairOptions{KeepLater: keepLater}
		// Uninterrupted.
		opts := damageOptions()
		opts.FS = damage()
		want, err := partition.Repair(partitionDir, &opts, ropts)
		require.NoError(t, err)
		wantOffsets := readableOffsets(t, opts.FS)
		t.Logf("keep later %v: repair: lost %v, actions %q", keepLater, want.Lost, want.Actions)

		// Interrupted at its last checkpoint write, then resumed.
		image := damage()
		hit := false
		var faults vfs.Switch
		faults.Set(failLastCheckpointWrite(&hit))
		opts.FS = vfs.NewFaulty(image, faults.Inject)
		_, err = partition.Repair(partitionDir, &opts, ropts)
		require.True(t, hit)
		require.ErrorIs(t, err, syscall.EIO)
		opts.FS = image
		got, err := partition.Repair(partitionDir, &opts, ropts)
		require.NoError(t, err)
		t.Logf("keep later %v: resumed repair: problems %v, lost %v, actions %q", keepLater, got.Problems, got.Lost, got.Actions)
		require.Equal(t, wantOffsets, readableOffsets(t, image), "keep later %v: the resumed Repair gives up offsets the first one kept", keepLater)
		require.Equal(t, want.EndOffset, got.EndOffset)
		for _, problem := range got.Problems {
			require.NotContains(t, problem.Error(), "was sealed", "keep later %v", keepLater)
		}
	}
}

// failLastCheckpointWrite fails Repair's last write of partition.checkpoint: the
// first one after a .log was cut (Repair's writes before it come first).
func failLastCheckpointWrite(hit *bool) vfs.Injector {
	cut := false
	return func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpTruncate {
			cut = true
		}
		if cut {
			return failFirstCheckpointWrite(hit)(op, path)
		}
		return nil
	}
}

// readableOffsets opens the partition on fsys and returns the offsets of every record
// it reads.
func readableOffsets(t *testing.T, fsys vfs.FS) []int64 {
	t.Helper()
	p, err := openAt(fsys, damageOptions())
	require.NoError(t, err)
	defer p.Close()
	var offsets []int64
	r := p.NewReader(p.StartOffset(), 0)
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			return offsets
		}
		offsets = append(offsets, rec.Offset)
	}
}

// TestReviewManifestRepairCrashAtEveryOperation: for each damage of repair_test.go
// (on a store closed cleanly, and one crashed after a recovery), with and without
// KeepLater, a crash (modes taking turns) before every mutating operation of Repair,
// then Repair again: the partition opens and holds exactly the records an
// uninterrupted Repair keeps.
func TestReviewManifestRepairCrashAtEveryOperation(t *testing.T) {
	type store struct {
		name  string
		build func(t *testing.T, damage func(*testing.T, vfs.FS, []int64, func(int64) partition.Location)) *vfs.CrashableFS
	}
	stores := []store{
		{"clean", func(t *testing.T, damage func(*testing.T, vfs.FS, []int64, func(int64) partition.Location)) *vfs.CrashableFS {
			return damaged(t, damage).(*vfs.CrashableFS)
		}},
		{"crashed after a recovery", func(t *testing.T, damage func(*testing.T, vfs.FS, []int64, func(int64) partition.Location)) *vfs.CrashableFS {
			image := runningCrashedStore(t)
			p, err := openAt(image, damageOptions())
			require.NoError(t, err)
			locs := map[int64]partition.Location{}
			for _, o := range []int64{21, 22, 31} { // the offsets the damages locate
				loc, err := p.Locate(o)
				require.NoError(t, err)
				locs[o] = loc
			}
			locate := func(o int64) partition.Location {
				loc, ok := locs[o]
				require.True(t, ok, "offset %d", o)
				return loc
			}
			again := image.Crash(vfs.DropUnsynced, 3)
			require.NoError(t, p.Close())
			damage(t, again, segmentBases(t, again), locate)
			return again
		}},
	}
	for _, st := range stores {
		for _, d := range damages {
			for _, keepLater := range []bool{false, true} {
				ropts := &partition.RepairOptions{KeepLater: keepLater}
				what := fmt.Sprintf("%s, %s, keep later %v", st.name, d.name, keepLater)
				opts := damageOptions()
				opts.FS = makeDurable(t, st.build(t, d.damage))
				_, err := partition.Repair(partitionDir, &opts, ropts)
				require.NoError(t, err, what)
				want := readableOffsets(t, opts.FS)
				for n := int64(1); ; n++ {
					fsys := makeDurable(t, st.build(t, d.damage))
					gate := newOpGate()
					gate.arm(n)
					done := make(chan error, 1)
					go func() {
						o := damageOptions()
						o.FS = vfs.NewFaulty(fsys, gate.inject)
						_, err := partition.Repair(partitionDir, &o, ropts)
						done <- err
					}()
					var crashed *vfs.CrashableFS
					reached := true
					select {
					case <-gate.stopped:
						crashed = fsys.Crash(crashModes[n%int64(len(crashModes))], n)
						close(gate.release)
						<-done
					case err := <-done:
						require.NoError(t, err, what)
						reached = false
					}
					if !reached {
						break
					}
					opts.FS = crashed
					_, err := partition.Repair(partitionDir, &opts, ropts)
					require.NoError(t, err, "%s: Repair resumed after a crash before its operation %d", what, n)
					require.Equal(t, want, readableOffsets(t, crashed), "%s: Repair resumed after a crash before its operation %d", what, n)
				}
			}
		}
	}
}

// makeDurable fsyncs every file of the partition directory, and the directory: the
// damage a test made stays through the crashes that follow.
func makeDurable(t *testing.T, fsys *vfs.CrashableFS) *vfs.CrashableFS {
	t.Helper()
	names, err := fsys.ReadDir(partitionDir)
	require.NoError(t, err)
	for _, name := range names {
		f, err := fsys.OpenFile(filepath.Join(partitionDir, name), os.O_RDWR, 0)
		if err != nil {
			continue // a directory
		}
		require.NoError(t, f.Sync())
		require.NoError(t, f.Close())
	}
	require.NoError(t, fsys.SyncDir(partitionDir))
	return fsys
}
