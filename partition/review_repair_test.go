package partition_test

import (
	"github.com/stratalog/strata/vfs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// TestReviewRepairAfterCrashKeepsOffsets: after an unclean shutdown (every append
// fsynced), one flipped bit inside a batch of the active segment, with valid batches
// after it. Open rightly refuses. Repair cuts the active segment at the damaged batch,
// but its end offset is max(checkpoint recovery point, valid prefix): the recovery
// point of an unclean shutdown is the active segment's base, and the offsets of the
// acknowledged batches after the damage (which ScanFile never looks at) are neither
// reported as Lost nor kept from reuse. The next append gets offset 45 again, though
// offsets 45..59 were acknowledged (and maybe consumed and committed).
func TestReviewRepairAfterCrashKeepsOffsets(t *testing.T) {
	const target = 45
	fsys, _ := damagedStore(t, true)
	p, err := openAt(fsys, damageOptions())
	require.NoError(t, err)
	loc, err := p.Locate(target)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	fsys, _ = damagedStore(t, false) // the same store, crashed instead of closed
	xorBytes(t, fsys, loc.Path, loc.Position+segment.BatchHeaderSize, 1<<60)
	_, err = openAt(fsys, damageOptions())
	require.ErrorIs(t, err, errs.ErrCorrupt)

	opts := damageOptions()
	opts.FS = fsys
	report, err := partition.Repair(partitionDir, &opts, nil)
	require.NoError(t, err)
	t.Logf("lost %v, end %d, actions %q", report.Lost, report.EndOffset, report.Actions)
	var lost int64
	for _, r := range report.Lost {
		lost += r.To - r.From
	}
	require.GreaterOrEqual(t, report.EndOffset, int64(60), "the end offset went back: offsets 45..59 were acknowledged and will be given out again")
	require.Equal(t, int64(60-target), lost, "the acknowledged records after the damage are not reported lost: %v", report.Lost)
}

// TestReviewRepairInterruptedKeepsOffsets: Repair moves the segments after the first
// problem away before it writes the checkpoint that records the end offset it
// computed from them. Interrupted in between (here: the cut fails; a crash there is
// the same), the next Repair has only the stale recovery point of an unclean shutdown
// to go by, so the end offset goes back and offsets 45..59 (acknowledged, fsynced,
// now only in the keep directory) are neither reported lost nor kept from reuse.
// The doc says "A crash midway leaves a partition that Repair can take up again."
func TestReviewRepairInterruptedKeepsOffsets(t *testing.T) {
	const target = 22 // a sealed segment
	fsys, _ := damagedStore(t, true)
	p, err := openAt(fsys, damageOptions())
	require.NoError(t, err)
	loc, err := p.Locate(target)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	image, _ := damagedStore(t, false)
	xorBytes(t, image, loc.Path, loc.Position+segment.BatchHeaderSize, 1<<60)

	var faults vfs.Switch
	faults.Set(vfs.FailOp(vfs.OpTruncate, syscall.EIO))
	opts := damageOptions()
	opts.FS = vfs.NewFaulty(image, faults.Inject)
	_, err = partition.Repair(partitionDir, &opts, nil)
	require.ErrorIs(t, err, syscall.EIO)

	opts.FS = image
	report, err := partition.Repair(partitionDir, &opts, nil)
	require.NoError(t, err)
	t.Logf("second repair: lost %v, end %d", report.Lost, report.EndOffset)
	require.GreaterOrEqual(t, report.EndOffset, int64(60), "the end offset went back after an interrupted Repair")
}
