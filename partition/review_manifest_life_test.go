package partition_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// manifestLifeOptions: small segments, compaction, a fixed clock.
func manifestLifeOptions(fsys vfs.FS) partition.Options {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return partition.Options{
		FS:                 fsys,
		SegmentBytes:       500,
		IndexIntervalBytes: 100,
		Compact:            true,
		DeleteRetention:    time.Hour,
		Now:                func() time.Time { return now },
	}
}

// manifestLife runs a partition's life through every operation that writes or
// depends on the manifest: appends and rolls, DeleteRecordsBefore and retention,
// compaction, TruncateTo into a sealed segment and into the active one, clean closes
// and reopens with appends after them (the clean checkpoint lists the newest
// segment), and a checkpoint downgraded to version 2. It stops at the first error.
func manifestLife(fsys vfs.FS, downgrade func()) error {
	ctx := context.Background()
	opts := manifestLifeOptions(fsys)
	n := 0
	appendSome := func(p *partition.Partition, count int) error {
		for range count {
			records := make([]partition.Record, 1+n%3)
			for j := range records {
				records[j] = partition.Record{Key: []byte(fmt.Sprintf("k%d", (n+j)%7)), Value: []byte(fmt.Sprintf("v%d-%d-%s", n, j, strings.Repeat("x", n%40))), Timestamp: 1_772_000_000_000 + int64(n)}
			}
			if n%9 == 8 {
				records[0].Value = nil // a tombstone
			}
			n++
			if _, err := p.Append(ctx, records); err != nil {
				return err
			}
		}
		return nil
	}
	steps := []func(p *partition.Partition) error{
		func(p *partition.Partition) error { return appendSome(p, 25) },
		func(p *partition.Partition) error { return p.DeleteRecordsBefore(p.StartOffset() + 7) },
		func(p *partition.Partition) error { _, err := p.ForceCompact(ctx); return err },
		func(p *partition.Partition) error {
			// Into the second sealed segment: the segments after it go, it is cut
			// and becomes the active segment.
			_, err := p.TruncateTo(p.StartOffset() + 30)
			return err
		},
		func(p *partition.Partition) error { return appendSome(p, 10) },
	}
	round2 := []func(p *partition.Partition) error{
		// After a clean close: appends make the newest segment longer than the
		// clean checkpoint lists it.
		func(p *partition.Partition) error { return appendSome(p, 3) },
		func(p *partition.Partition) error { _, err := p.TruncateTo(p.EndOffset() - 1); return err },
		func(p *partition.Partition) error { return appendSome(p, 12) },
		func(p *partition.Partition) error { _, err := p.ForceCompact(ctx); return err },
		func(p *partition.Partition) error { return p.Roll() },
	}
	round3 := []func(p *partition.Partition) error{
		func(p *partition.Partition) error { return appendSome(p, 6) },
		func(p *partition.Partition) error { return p.DeleteRecordsBefore(p.EndOffset() - 20) },
		func(p *partition.Partition) error { _, err := p.ApplyRetention(); return err },
		func(p *partition.Partition) error { return appendSome(p, 6) },
	}
	for round, script := range [][]func(*partition.Partition) error{steps, round2, round3} {
		p, err := partition.Open(partitionDir, &opts)
		if err != nil {
			return err
		}
		for _, step := range script {
			if err = step(p); err != nil {
				break
			}
		}
		if closeErr := p.Close(); err != nil || closeErr != nil {
			return errors.Join(err, closeErr)
		}
		if round == 1 && downgrade != nil {
			downgrade()
		}
	}
	return nil
}

// requireOpensClean opens the partition on fsys: no error, Verify passes, every
// record reads; and Scrub of the closed partition finds nothing.
func requireOpensClean(t *testing.T, fsys vfs.FS, what string) {
	t.Helper()
	opts := manifestLifeOptions(fsys)
	p, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err, "%s: open", what)
	require.NoError(t, p.Verify(context.Background()), "%s: verify", what)
	readRecords(t, p)
	require.NoError(t, p.Close())
	report, err := partition.Scrub(partitionDir, &opts)
	require.NoError(t, err)
	require.Empty(t, report.Problems, "%s: scrub", what)
	// Once more, now that Open rewrote the checkpoint.
	p, err = partition.Open(partitionDir, &opts)
	require.NoError(t, err, "%s: second open", what)
	require.NoError(t, p.Verify(context.Background()), "%s: second verify", what)
	require.NoError(t, p.Close())
}

// TestReviewManifestLifeCrashAtEveryOperation crashes before every mutating file
// operation of manifestLife (crash modes taking turns; all under STRATA_LONG=1), and
// sometimes again during the recovery: every state must open, verify and scrub
// clean.
func TestReviewManifestLifeCrashAtEveryOperation(t *testing.T) {
	for _, downgrade := range []bool{false, true} {
		for n := int64(1); ; n++ {
			fsys := vfs.NewCrashable()
			gate := newOpGate()
			var down func()
			if downgrade {
				down = func() {
					path := filepath.Join(partitionDir, partition.CheckpointFile)
					data, err := vfs.ReadFileLimit(fsys, path, 1<<20)
					require.NoError(t, err)
					require.NoError(t, vfs.WriteFileAtomic(fsys, path, partition.DowngradeCheckpoint(t, data)))
				}
			}
			gate.arm(n)
			done := make(chan error, 1)
			go func() { done <- manifestLife(vfs.NewFaulty(fsys, gate.inject), down) }()
			modes := crashModes
			if !longRun() {
				modes = []vfs.CrashMode{crashModes[n%int64(len(crashModes))]}
			}
			var images []*vfs.CrashableFS
			reached := true
			select {
			case <-gate.stopped:
				for _, mode := range modes {
					images = append(images, fsys.Crash(mode, n))
				}
				close(gate.release)
				require.NoError(t, <-done)
			case err := <-done:
				require.NoError(t, err)
				reached = false
				images = append(images, fsys.Crash(vfs.DropUnsynced, n))
			}
			for i, image := range images {
				what := fmt.Sprintf("downgrade %v, crash (%v) before operation %d", downgrade, modes[min(i, len(modes)-1)], n)
				if n%4 == 0 {
					image, _ = crashDuringRecovery(t, image, manifestLifeOptions(nil), modes[min(i, len(modes)-1)], n, 1+n%17)
					what += fmt.Sprintf(", and during recovery before its operation %d", 1+n%17)
				}
				requireOpensClean(t, image, what)
			}
			if !reached || t.Failed() {
				t.Logf("the life makes %d mutating operations", n)
				break
			}
		}
	}
}
