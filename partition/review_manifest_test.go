package partition_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// failFirstCheckpointWrite is an Injector that fails the first open of
// partition.checkpoint.tmp (the first write of partition.checkpoint) with EIO.
func failFirstCheckpointWrite(hit *bool) vfs.Injector {
	return func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpOpen && filepath.Base(path) == partition.CheckpointFile+".tmp" && !*hit {
			*hit = true
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	}
}

// TestReviewManifestSwapFinishedByAnInterruptedOpen: a compaction fails at its commit
// point's checkpoint write (its .swap files are in place, partition.checkpoint still
// lists the segments it replaces); the next Open finishes the swap (renames the
// .swap files into place) and fails, or crashes, before its own checkpoint write. The
// Open after it no longer sees a .swap file, so nothing exempts the cleaned segments
// from the old manifest: a false alarm on a state strata made.
func TestReviewManifestSwapFinishedByAnInterruptedOpen(t *testing.T) {
	mem := vfs.NewMem()
	var faults vfs.Switch
	fsys := vfs.NewFaulty(mem, faults.Inject)
	p := compactCrashSetup(t, fsys)
	before := describe(readRecords(t, p))
	hit := false
	faults.Set(failFirstCheckpointWrite(&hit))
	_, err := p.ForceCompact(context.Background())
	faults.Set(nil)
	require.True(t, hit)
	require.ErrorIs(t, err, syscall.EIO)
	require.Error(t, p.Err(), "failed closed after the commit point")
	p.Close()

	// Open finishes the swap, then fails writing its checkpoint (a crash there
	// leaves the same files: recoverCompaction fsynced its renames).
	hit = false
	renamed := false
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpRename && strings.HasSuffix(path, ".log.swap") {
			renamed = true
		}
		if renamed {
			return failFirstCheckpointWrite(&hit)(op, path)
		}
		return nil
	})
	_, err = openAt(fsys, compactCrashOptions())
	faults.Set(nil)
	require.True(t, hit)
	require.ErrorIs(t, err, syscall.EIO)
	requireNoCompactionLeftovers(t, mem)

	q, err := openAt(mem, compactCrashOptions())
	var corrupt *partition.CorruptError
	if errors.As(err, &corrupt) {
		t.Fatalf("false alarm on a swap that an interrupted Open finished: %v", err)
	}
	require.NoError(t, err)
	defer q.Close()
	require.Equal(t, latestView(before), latestView(describe(readRecords(t, q))))
	require.NoError(t, q.Verify(context.Background()))
}

// TestReviewManifestRepairFinishesSwapThenOpenFails: a compaction fails at its commit
// point's checkpoint write (.swap files in place, the old manifest). Repair (or
// Scrub, then Repair) is run: it finishes the swap as Open would, finds nothing wrong
// and returns, writing no checkpoint. The next Open sees no .swap file, checks the
// cleaned segments against the old manifest and refuses the partition. No second
// crash is needed.
func TestReviewManifestRepairFinishesSwapThenOpenFails(t *testing.T) {
	mem := vfs.NewMem()
	var faults vfs.Switch
	fsys := vfs.NewFaulty(mem, faults.Inject)
	p := compactCrashSetup(t, fsys)
	hit := false
	faults.Set(failFirstCheckpointWrite(&hit))
	_, err := p.ForceCompact(context.Background())
	faults.Set(nil)
	require.True(t, hit)
	require.Error(t, p.Err())
	p.Close()

	opts := compactCrashOptions()
	opts.FS = mem
	report, err := partition.Scrub(partitionDir, &opts)
	require.NoError(t, err)
	require.True(t, report.PendingCompaction)
	require.Empty(t, report.Problems)
	repaired, err := partition.Repair(partitionDir, &opts, nil)
	require.NoError(t, err)
	require.Empty(t, repaired.Problems)
	requireNoCompactionLeftovers(t, mem)

	report, err = partition.Scrub(partitionDir, &opts)
	require.NoError(t, err)
	require.Empty(t, report.Problems, "scrub after the repair that finished the swap")
	q, err := openAt(mem, compactCrashOptions())
	require.NoError(t, err, "open after the repair that finished the swap")
	require.NoError(t, q.Verify(context.Background()))
	require.NoError(t, q.Close())
}
