package partition_test

import (
	"context"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// replicateTransaction copies to the follower p a transactional batch of n records
// of producer id at epoch from sequence, at p's end, as a leader's fetch would.
func replicateTransaction(t *testing.T, p *partition.Partition, id int64, epoch int16, sequence int32, n int) {
	t.Helper()
	batch, err := segment.AppendBatch(nil, records(p.WrittenOffset(), n, 1<<30), &segment.BatchOptions{
		Idempotent: true, ProducerID: id, ProducerEpoch: epoch, BaseSequence: sequence, Transactional: true})
	require.NoError(t, err)
	segment.SetBaseOffset(batch, p.WrittenOffset())
	_, err = p.AppendReplica(context.Background(), batch)
	require.NoError(t, err)
}

// replicateCommit copies to the follower p the COMMIT marker of producer id's
// transaction (coordinator epoch 5), at p's end.
func replicateCommit(t *testing.T, p *partition.Partition, id int64, epoch int16) {
	t.Helper()
	commit := []partition.Record{{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 5}, Timestamp: 2000}}
	marker, err := segment.AppendBatch(nil, commit, &segment.BatchOptions{
		Idempotent: true, ProducerID: id, ProducerEpoch: epoch, Transactional: true, Control: true})
	require.NoError(t, err)
	segment.SetBaseOffset(marker, p.WrittenOffset())
	_, err = p.AppendReplica(context.Background(), marker)
	require.NoError(t, err)
}

// TestIdempotentTruncationOfMarkerReopensTransaction: a follower copies a
// producer's transactional batch and its COMMIT marker, then truncates the marker
// away (its leader never had it). The transaction is open again in the log, as
// Kafka's truncateAndReload finds it: a plain batch of that producer is
// ErrInvalidTxnState, not appended inside the open transaction.
func TestIdempotentTruncationOfMarkerReopensTransaction(t *testing.T) {
	p := openDir(t, vfs.NewMem(), followerDir, partition.Options{})
	defer p.Close()
	replicateTransaction(t, p, 4, 1, 0, 2)
	replicateCommit(t, p, 4, 1)
	_, err := p.TruncateTo(2)
	require.NoError(t, err)
	_, err = appendProduced(p, 4, 1, 2, 1)
	require.ErrorIs(t, err, partition.ErrInvalidTxnState, "the transaction from offset 0 is open again")
	require.EqualValues(t, 2, p.WrittenOffset())
}

// TestIdempotentUnsyncedSnapshotIsNotLeftBehind: a roll's snapshot whose directory
// fsync fails is logged and not kept, but the renamed file may stay on disk. It
// must not outlive a truncation below it: after the log regrows past it with other
// batches and the power fails, Open would load it (the newest at or below the end)
// and replay only the batches after it: producer 1 would still be known at its
// truncated sequence 3, so that its resent sequence 2 is refused as out of order
// (and sequence 3 answered as a duplicate at offset 3, which holds producer 2's
// records).
func TestIdempotentUnsyncedSnapshotIsNotLeftBehind(t *testing.T) {
	disk := vfs.NewCrashable()
	var faults vfs.Switch
	p := openDir(t, vfs.NewFaulty(disk, faults.Inject), leaderDir, partition.Options{})
	defer p.Close()
	for sequence := range int32(4) {
		_, err := appendProduced(p, 1, 0, sequence, 1) // producer 1 at offsets 0-3
		require.NoError(t, err)
	}
	var renamed, failed atomic.Bool
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		switch {
		case op == vfs.OpRename && strings.HasSuffix(path, partition.SnapshotSuffix+".tmp"):
			renamed.Store(true)
		case op == vfs.OpSyncDir && renamed.CompareAndSwap(true, false):
			failed.Store(true)
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	})
	require.NoError(t, p.Roll()) // the snapshot at 4 is renamed, its directory fsync fails
	faults.Set(nil)
	require.True(t, failed.Load(), "the snapshot's directory fsync failed")

	_, err := p.TruncateTo(2)
	require.NoError(t, err)
	for sequence := range int32(4) {
		_, err := appendProduced(p, 2, 0, sequence, 1) // producer 2 at offsets 2-5
		require.NoError(t, err)
	}
	q := openDir(t, disk.Crash(vfs.DropUnsynced, 1), leaderDir, partition.Options{})
	defer q.Close()
	base, err := appendProduced(q, 1, 0, 2, 1)
	require.NoError(t, err, "producer 1's batch at sequence 2 was truncated: its retry is new")
	require.EqualValues(t, 6, base)
}
