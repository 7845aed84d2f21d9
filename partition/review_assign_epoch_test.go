package partition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// An AssignEpoch that cannot read the leader epoch checkpoint fails the
// partition, as one that cannot write it does: the replica layer takes a failed
// AssignEpoch for a failed disk only when the log says so, and otherwise leaves the
// replica the controller made leader not leading, the partition without a working
// leader until its next change.
func TestAssignEpochThatCannotReadTheCheckpointFailsThePartition(t *testing.T) {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	p := openDir(t, fsys, leaderDir, partition.Options{Replicated: true})
	appendBatches(t, p, 2)
	require.NoError(t, p.AssignEpoch(1))
	require.NoError(t, p.Close())
	p = openDir(t, fsys, leaderDir, partition.Options{Replicated: true}) // the epochs load lazily
	defer p.Close()
	faults.Set(vfs.Match(partition.LeaderEpochCheckpointFile, vfs.FailOp(vfs.OpOpen, nil)))
	require.Error(t, p.AssignEpoch(2))
	faults.Set(nil)
	require.Error(t, p.Err(), "sticky")
}
