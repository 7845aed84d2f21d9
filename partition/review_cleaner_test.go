package partition_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestReviewCompactedWithoutCleanerCheckpoint: a compacted partition whose directory
// holds no cleaner.checkpoint. The code before this change produced exactly that
// state: its install() swapped the cleaned segments in and wrote the (v1) checkpoint
// only afterwards, and not at all when a group was skipped because retention removed
// its segments meanwhile (c.skipped), nor after a crash between the swap and the
// write. The new code reads "no file" as gapsBelow = 0, i.e. every segment dense, so
// the healthy compacted segment is refused (read, Verify) as corrupt after an upgrade.
// The cleaner checkpoint doc still says a missing file "is always safe".
func TestReviewCompactedWithoutCleanerCheckpoint(t *testing.T) {
	clock := newTestClock()
	fsys := vfs.NewMem()
	opts := compactOptions(fsys, clock)
	p, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	ts := clock.Millis(0)
	appendKVs(t, p, ts, kv{"a", "a0"}) // 0: superseded, its batch goes whole
	appendKVs(t, p, ts, kv{"b", "b0"}) // 1
	appendKVs(t, p, ts, kv{"a", "a1"}) // 2
	require.NoError(t, p.Roll())
	appendKVs(t, p, ts, kv{"c", "c0"}) // 3: active
	res := forceCompact(t, p)
	require.True(t, res.Compacted)
	want := describe(readRecords(t, p))
	require.NoError(t, p.Close())

	// The state the old code left after a skipped or interrupted first install.
	require.NoError(t, fsys.Remove(filepath.Join(partitionDir, partition.CleanerCheckpointFile)))

	q, err := partition.Open(partitionDir, &opts)
	require.NoError(t, err)
	defer q.Close()
	require.NoError(t, q.Verify(t.Context()), "Verify of a healthy compacted partition")
	require.Equal(t, want, describe(readRecords(t, q)))
}
