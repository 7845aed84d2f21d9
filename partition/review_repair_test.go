package partition_test

import (
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
