package partition_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// copyTransactionalBatch copies to the follower p a transactional batch of n records
// of producer id at epoch from sequence, at p's end, as a leader's fetch would.
func copyTransactionalBatch(t *testing.T, p *partition.Partition, id int64, epoch int16, sequence int32, n int) {
	t.Helper()
	batch, err := segment.AppendBatch(nil, records(p.WrittenOffset(), n, 1<<30), &segment.BatchOptions{
		Idempotent: true, ProducerID: id, ProducerEpoch: epoch, BaseSequence: sequence, Transactional: true})
	require.NoError(t, err)
	segment.SetBaseOffset(batch, p.WrittenOffset())
	_, err = p.AppendReplica(context.Background(), batch)
	require.NoError(t, err)
}

// copyCommitMarker copies to the follower p the COMMIT marker of producer id's
// transaction (coordinator epoch 5), at p's end.
func copyCommitMarker(t *testing.T, p *partition.Partition, id int64, epoch int16) {
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
	copyTransactionalBatch(t, p, 4, 1, 0, 2)
	copyCommitMarker(t, p, 4, 1)
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
	for _, removeFails := range []bool{false, true} { // then it stays listed
		t.Run(fmt.Sprintf("removeFails=%v", removeFails), func(t *testing.T) {
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
				case op == vfs.OpRemove && removeFails && strings.HasSuffix(path, partition.SnapshotSuffix):
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
		})
	}
}

// TestIdempotentReplayAcrossReadWindows: the rebuild after a crash reads batch
// headers a window at a time; batches of every size, some larger than a window and
// some straddling a window's end, are all replayed: each producer's newest batch is
// a duplicate at its offset, and its next sequence follows.
func TestIdempotentReplayAcrossReadWindows(t *testing.T) {
	disk := vfs.NewCrashable()
	p := openDir(t, disk, leaderDir, partition.Options{SegmentBytes: 64 << 20})
	defer p.Close()
	producers := []*testProducer{{id: 1}, {id: 2}, {id: 3}}
	newest := make([]int64, len(producers))
	for i, size := range []int{10, 5000, 40_000, 33, 70_000, 100, 1, 20_000, 9, 31_000, 3, 65_000, 2} {
		pr := producers[i%len(producers)]
		rs := []partition.Record{{Value: make([]byte, size)}}
		base, err := p.AppendWith(context.Background(), rs, &partition.AppendOptions{Producer: &partition.Producer{ID: pr.id, BaseSequence: pr.next}})
		require.NoError(t, err)
		pr.batches = append(pr.batches, producedBatch{sequence: pr.next, n: 1, base: base})
		pr.next++
		newest[i%len(producers)] = base
	}
	q := openDir(t, disk.Crash(vfs.DropUnsynced, 1), leaderDir, partition.Options{SegmentBytes: 64 << 20})
	defer q.Close()
	for i, pr := range producers {
		last := pr.batches[len(pr.batches)-1]
		require.Equal(t, newest[i], last.base)
		pr.requireDuplicate(t, q, last)
		_, err := appendProduced(q, pr.id, 0, pr.next, 1)
		require.NoError(t, err, "producer %d's next sequence", pr.id)
	}
}

// TestIdempotentRepairForgetsLostBatches: Repair gives up a damaged batch (an empty
// batch covers its offset). The producer snapshots above it describe the batch as
// written: the producer's resend of it must be written again, not answered as a
// duplicate at an offset that no longer holds its records.
func TestIdempotentRepairForgetsLostBatches(t *testing.T) {
	for _, keepLater := range []bool{false, true} {
		t.Run(fmt.Sprintf("keepLater=%v", keepLater), func(t *testing.T) {
			fsys := vfs.NewMem()
			p := openDir(t, fsys, leaderDir, partition.Options{})
			for sequence := range int32(4) {
				if sequence == 2 {
					require.NoError(t, p.Roll())
				}
				_, err := appendProduced(p, 1, 0, sequence, 1) // at offsets 0-3
				require.NoError(t, err)
			}
			loc, err := p.Locate(3)
			require.NoError(t, err)
			require.NoError(t, p.Close()) // a snapshot at 4, the log end
			xorBytes(t, fsys, loc.Path, loc.Position+segment.BatchHeaderSize, 1<<60)
			report, err := partition.Repair(leaderDir, &partition.Options{FS: fsys}, &partition.RepairOptions{KeepLater: keepLater})
			require.NoError(t, err)
			require.Equal(t, []partition.OffsetRange{{From: 3, To: 4}}, report.Lost)

			q := openDir(t, fsys, leaderDir, partition.Options{})
			defer q.Close()
			end := q.WrittenOffset()
			base, err := appendProduced(q, 1, 0, 3, 1)
			require.NoError(t, err, "the batch at sequence 3 was lost: its resend is new")
			require.Equal(t, end, base)
		})
	}
}
