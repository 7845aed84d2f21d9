package partition_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestReviewManifestConcurrent: appends (waiting and not), Verify, compaction, rolls,
// DeleteRecordsBefore, retention and reads run together (under -race: the checkpoint
// writers read segments and their fingerprints while appends run); every Verify
// passes, and the partition then reopens, after a clean close and after a crash, and
// verifies.
func TestReviewManifestConcurrent(t *testing.T) {
	fsys := vfs.NewCrashable()
	opts := manifestLifeOptions(fsys)
	opts.SegmentBytes = 400
	p, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	ctx := context.Background()
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	run := func(name string, f func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if err := f(i); err != nil {
					errc <- fmt.Errorf("%s: %w", name, err)
					return
				}
			}
		}()
	}
	for w := range 3 {
		run(fmt.Sprint("writer", w), func(i int) error {
			rec := []partition.Record{{Key: []byte(fmt.Sprintf("k%d", i%11)), Value: []byte(fmt.Sprintf("w%d-%d", w, i)), Timestamp: 1_772_000_000_000 + int64(i)}}
			var err error
			if w == 2 {
				_, err = p.Write(ctx, rec)
			} else {
				_, err = p.Append(ctx, rec)
			}
			return err
		})
	}
	run("verify", func(int) error { return p.Verify(ctx) })
	run("compact", func(int) error { _, err := p.ForceCompact(ctx); return err })
	run("roll", func(int) error { return p.Roll() })
	run("delete", func(i int) error {
		if i%50 != 0 {
			return nil
		}
		end := p.EndOffset()
		if end < 40 {
			return nil
		}
		return p.DeleteRecordsBefore(max(p.StartOffset(), end-40))
	})
	run("read", func(int) error {
		_, err := p.Read(p.StartOffset(), 0, 0)
		if errors.Is(err, partition.ErrOffsetOutOfRange) {
			return nil // DeleteRecordsBefore ran in between
		}
		return err
	})
	for p.EndOffset() < 800 && len(errc) == 0 {
		require.NoError(t, p.Sync(ctx))
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	for _, image := range []vfs.FS{fsys, crashed} {
		opts.FS = image
		q, err := partition.Open(partitionDir, &opts)
		require.NoError(t, err)
		require.NoError(t, q.Verify(ctx))
		require.NoError(t, q.Close())
		report, err := partition.Scrub(partitionDir, &opts)
		require.NoError(t, err)
		require.Empty(t, report.Problems)
	}
}
