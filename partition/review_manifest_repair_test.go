package partition_test

import (
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
