package partition_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestIdempotentCloseWithFailedSnapshotIsNotClean: a Close whose producer snapshot
// cannot be written records no clean shutdown, so that the next Open replays the
// log rather than trusting a state that is on no disk.
func TestIdempotentCloseWithFailedSnapshotIsNotClean(t *testing.T) {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	opts := partition.Options{SegmentBytes: 600}
	p, tp := producedPartition(t, fsys, leaderDir, opts, 3, 20)
	faults.Set(vfs.Match(partition.SnapshotSuffix, vfs.FailOp(vfs.OpWrite, syscall.EIO)))
	require.NoError(t, p.Close(), "a snapshot that cannot be written costs only a longer Open")
	faults.Set(nil)

	p = openDir(t, fsys, leaderDir, opts)
	defer p.Close()
	require.False(t, p.RecoveryReport().CleanShutdown, "the producer state at the log end was not written")
	tp.requireDuplicate(t, p, tp.batches[len(tp.batches)-1])
}
