package partition_test

// Tests of the leader epochs of a partition (epochs.go): what appends stamp,
// AssignEpoch and its checkpoint, EndOffsetForEpoch, and the leader epoch cache
// loaded lazily, checked against the log, rebuilt, trimmed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// epochFile is the leader epoch checkpoint of the partition in leaderDir.
var epochFile = filepath.Join(leaderDir, partition.LeaderEpochCheckpointFile)

// requireNoEpochFile checks that the partition in leaderDir has no leader epoch
// checkpoint.
func requireNoEpochFile(t testing.TB, fsys vfs.FS) {
	t.Helper()
	_, err := fsys.Stat(epochFile)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// entries returns the cache entries given as epoch, start offset pairs.
func entries(pairs ...int64) []partition.EpochEntry {
	var out []partition.EpochEntry
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, partition.EpochEntry{Epoch: int32(pairs[i]), StartOffset: pairs[i+1]})
	}
	return out
}

// requireEpochs checks the cache of p and the file holding it.
func requireEpochs(t testing.TB, fsys vfs.FS, p *partition.Partition, want []partition.EpochEntry) {
	t.Helper()
	got, err := p.Epochs()
	require.NoError(t, err)
	require.Equal(t, want, got)
	text := fmt.Sprintf("0\n%d\n", len(want))
	for _, e := range want {
		text += fmt.Sprintf("%d %d\n", e.Epoch, e.StartOffset)
	}
	require.Equal(t, text, string(diskRead(t, fsys, epochFile)))
	latest, ok, err := p.LatestEpoch()
	require.NoError(t, err)
	require.Equal(t, len(want) > 0, ok)
	if ok {
		require.Equal(t, want[len(want)-1], latest)
	}
}

// Append, Write and AppendBatch stamp epoch 0 until AssignEpoch, then the assigned
// epoch, whatever the producer wrote in the batch.
func TestAppendsStampLeaderEpoch(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, leaderDir, partition.Options{})
	defer p.Close()
	ctx := context.Background()
	producerBatch := func(epoch int32) []byte {
		b, err := segment.AppendBatch(nil, records(0, 2, 5), &segment.BatchOptions{PartitionLeaderEpoch: epoch})
		require.NoError(t, err)
		return b
	}
	appendAll := func() {
		appendBatches(t, p, 1)
		_, err := p.Write(ctx, records(p.WrittenOffset(), 1, 5))
		require.NoError(t, err)
		b := producerBatch(7)
		_, err = p.AppendBatch(ctx, b)
		require.NoError(t, err)
		b = producerBatch(-1)
		_, err = p.AppendBatch(ctx, b)
		require.NoError(t, err)
	}
	require.Equal(t, int32(0), p.LeaderEpoch())
	appendAll()
	require.NoError(t, p.AssignEpoch(3))
	require.Equal(t, int32(3), p.LeaderEpoch())
	appendAll()
	require.NoError(t, p.Sync(ctx))
	require.Equal(t, []string{
		"0-0@0", "1-1@0", "2-3@0", "4-5@0",
		"6-6@3", "7-7@3", "8-9@3", "10-11@3",
	}, batchEpochs(t, fetchAll(t, p, 0)))
	requireEpochs(t, fsys, p, entries(0, 0, 3, 6))
}

// A partition that never assigns an epoch above 0 (a one-broker store) writes no
// leader epoch checkpoint: AssignEpoch(0) on it records nothing, before or after a
// reopen.
func TestAssignEpochZeroWritesNoFile(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, leaderDir, partition.Options{})
	require.NoError(t, p.AssignEpoch(0))
	appendBatches(t, p, 2, 3)
	require.NoError(t, p.AssignEpoch(0))
	require.NoError(t, p.Close())
	requireNoEpochFile(t, fsys)
	p = openDir(t, fsys, leaderDir, partition.Options{})
	defer p.Close()
	require.NoError(t, p.AssignEpoch(0))
	appendBatches(t, p, 1)
	requireNoEpochFile(t, fsys)
	require.Equal(t, []string{"0-1@0", "2-4@0", "5-5@0"}, batchEpochs(t, fetchAll(t, p, 0)))
}

// AssignEpoch records the epoch at the log end offset, durably, before any batch
// carries it: a crash right after it keeps the checkpoint.
func TestAssignEpochWritesCheckpoint(t *testing.T) {
	fsys := vfs.NewCrashable()
	opts := partition.Options{}
	p := openDir(t, fsys, leaderDir, opts)
	defer p.Close()
	appendBatches(t, p, 2, 2)
	require.NoError(t, p.AssignEpoch(5))
	requireEpochs(t, fsys, p, entries(0, 0, 5, 4))
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.Equal(t, "0\n2\n0 0\n5 4\n", string(diskRead(t, crashed, epochFile)))

	// The same epoch again changes nothing; a later one at the same offset (the
	// epoch before wrote nothing) replaces it.
	require.NoError(t, p.AssignEpoch(5))
	requireEpochs(t, fsys, p, entries(0, 0, 5, 4))
	require.NoError(t, p.AssignEpoch(6))
	requireEpochs(t, fsys, p, entries(0, 0, 6, 4))
	appendBatches(t, p, 1)
	require.NoError(t, p.AssignEpoch(6))
	requireEpochs(t, fsys, p, entries(0, 0, 6, 4))

	// On a fresh partition the first epoch starts at 0.
	q := openDir(t, fsys, followerDir, opts)
	defer q.Close()
	require.NoError(t, q.AssignEpoch(2))
	got, err := q.Epochs()
	require.NoError(t, err)
	require.Equal(t, entries(2, 0), got)
}

// An epoch below the latest known is a stale leader's: ErrInvalidArgument, nothing
// changes, in a live partition and in a reopened one.
func TestAssignEpochStale(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, leaderDir, partition.Options{})
	appendBatches(t, p, 2)
	require.NoError(t, p.AssignEpoch(5))
	appendBatches(t, p, 2)
	check := func(p *partition.Partition) {
		t.Helper()
		for _, epoch := range []int32{-1, 0, 4} {
			err := p.AssignEpoch(epoch)
			require.ErrorIs(t, err, errs.ErrInvalidArgument, "AssignEpoch(%d)", epoch)
		}
		requireEpochs(t, fsys, p, entries(0, 0, 5, 2))
		require.Equal(t, int32(5), p.LeaderEpoch())
		appendBatches(t, p, 1)
		hs := headers(t, fetchAll(t, p, p.WrittenOffset()-1))
		require.Equal(t, int32(5), hs[0].PartitionLeaderEpoch)
	}
	check(p)
	require.NoError(t, p.Close())
	p = openDir(t, fsys, leaderDir, partition.Options{})
	defer p.Close()
	check(p)
}

// EndOffsetForEpoch answers Kafka's OffsetForLeaderEpoch: for a known epoch, where
// the next known one begins (the log end offset for the latest); for an unknown one
// between two, the one below and where the next begins; below every known one, the
// epoch itself and the first start offset; above every known one, NoEpoch.
func TestEndOffsetForEpoch(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, leaderDir, partition.Options{SegmentBytes: 1 << 10})
	ask := func(p *partition.Partition, epoch int32) string {
		e, end, err := p.EndOffsetForEpoch(epoch)
		require.NoError(t, err)
		return fmt.Sprintf("%d@%d", e, end)
	}
	// An empty log knows no epoch.
	require.Equal(t, "-1@-1", ask(p, 0))
	require.Equal(t, "-1@-1", ask(p, partition.NoEpoch))
	for range 5 {
		appendBatches(t, p, 2) // epoch 0: 0-9
	}
	require.NoError(t, p.AssignEpoch(2))
	for range 5 {
		appendBatches(t, p, 2) // epoch 2: 10-19
	}
	require.NoError(t, p.AssignEpoch(5))
	for range 5 {
		appendBatches(t, p, 2) // epoch 5: 20-29
	}
	want := map[int32]string{
		partition.NoEpoch: "-1@-1",
		0:                 "0@10",
		1:                 "0@10",
		2:                 "2@20",
		3:                 "2@20",
		4:                 "2@20",
		5:                 "5@30",
		6:                 "-1@-1",
		100:               "-1@-1",
	}
	check := func(p *partition.Partition) {
		t.Helper()
		for epoch, answer := range want {
			require.Equal(t, answer, ask(p, epoch), "EndOffsetForEpoch(%d)", epoch)
		}
	}
	check(p)
	require.NoError(t, p.Close())
	p = openDir(t, fsys, leaderDir, partition.Options{SegmentBytes: 1 << 10})
	defer p.Close()
	check(p)

	// An epoch assigned but not written to yet ends at the log end offset, and so
	// does the one before it.
	require.NoError(t, p.AssignEpoch(7))
	want[5], want[6], want[7] = "5@30", "5@30", "7@30"
	check(p)
	appendBatches(t, p, 2)
	want[7] = "7@32"
	check(p)

	// A log whose first known epoch is above 0 (a follower of a leader whose
	// early epochs retention removed): below it, the epoch itself.
	q := openDir(t, fsys, followerDir, partition.Options{})
	defer q.Close()
	require.NoError(t, q.AssignEpoch(3))
	appendBatches(t, q, 2)
	require.Equal(t, "1@0", ask(q, 1))
	require.Equal(t, "3@2", ask(q, 3))
}

// The leader epoch cache is not read at Open: a partition without a checkpoint
// (one that never knew an epoch above 0) never touches the file while it appends and
// reads; one with a checkpoint reads it at the first append (which must stamp the
// latest epoch) or the first question about epochs, not before.
func TestEpochsLoadLazily(t *testing.T) {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	var touched atomic.Int64
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		if filepath.Base(path) == partition.LeaderEpochCheckpointFile {
			touched.Add(1)
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	})
	p := openDir(t, fsys, leaderDir, partition.Options{})
	appendBatches(t, p, 2)
	require.NoError(t, p.AssignEpoch(0))
	require.NoError(t, p.Close())
	p = openDir(t, fsys, leaderDir, partition.Options{})
	appendBatches(t, p, 2)
	require.Equal(t, int32(0), p.LeaderEpoch())
	require.Equal(t, []int64{0, 1, 2, 3}, offsetsRead(t, p, 0))
	require.Zero(t, touched.Load(), "a partition without epochs touched the checkpoint")

	faults.Set(nil)
	require.NoError(t, p.AssignEpoch(4))
	appendBatches(t, p, 2)
	require.NoError(t, p.Close())

	touched.Store(0)
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		if filepath.Base(path) == partition.LeaderEpochCheckpointFile {
			touched.Add(1)
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	})
	p = openDir(t, fsys, leaderDir, partition.Options{})
	defer p.Close()
	require.Equal(t, []int64{0, 1, 2, 3, 4, 5}, offsetsRead(t, p, 0))
	require.Zero(t, touched.Load(), "Open and reads touched the checkpoint")
	_, err := p.Append(context.Background(), records(6, 1, 5))
	require.ErrorIs(t, err, syscall.EIO, "an append that cannot know its epoch")
	require.Positive(t, touched.Load())
	_, err = p.Epochs()
	require.ErrorIs(t, err, syscall.EIO, "an I/O error is not taken for a damaged file")
	require.NoError(t, p.Err(), "a failed load does not fail the partition")
	require.Equal(t, int64(6), p.WrittenOffset())

	faults.Set(nil)
	got, err := p.Epochs()
	require.NoError(t, err)
	require.Equal(t, entries(0, 0, 4, 4), got)
	appendBatches(t, p, 1)
	require.Equal(t, []string{"6-6@4"}, batchEpochs(t, fetchAll(t, p, 6)))
}

// After a reopen, appends stamp the latest epoch the log knows until the next
// AssignEpoch, whether or not anything asked about epochs first, and a stale leader's
// AssignEpoch(0) is refused: the log's epochs never go down, which its followers
// would refuse.
func TestReopenKeepsLeaderEpoch(t *testing.T) {
	for _, ask := range []bool{false, true} {
		t.Run(fmt.Sprintf("ask=%v", ask), func(t *testing.T) {
			fsys := vfs.NewMem()
			p := openDir(t, fsys, leaderDir, partition.Options{})
			appendBatches(t, p, 2)
			require.NoError(t, p.AssignEpoch(5))
			appendBatches(t, p, 2)
			follower := openDir(t, fsys, followerDir, partition.Options{})
			defer follower.Close()
			replicate(t, p, follower, 1<<20)
			require.NoError(t, p.Close())

			p = openDir(t, fsys, leaderDir, partition.Options{})
			defer p.Close()
			if ask {
				_, err := p.Epochs()
				require.NoError(t, err)
			}
			appendBatches(t, p, 1)
			require.Equal(t, int32(5), p.LeaderEpoch())
			require.ErrorIs(t, p.AssignEpoch(0), errs.ErrInvalidArgument)
			appendBatches(t, p, 1)
			require.Equal(t, []string{"0-1@0", "2-3@5", "4-4@5", "5-5@5"}, batchEpochs(t, fetchAll(t, p, 0)))
			replicate(t, p, follower, 1<<20)
			requireSameLog(t, p, follower, false)
		})
	}
}

// A checkpoint that does not hold (unreadable, missing, or naming batches of
// another epoch) is rebuilt from the batch headers, and rewritten; one ahead of the
// log (a crash lost the batches of an epoch it names) is trimmed to the log.
func TestEpochsRebuiltFromLog(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  *string // nil: no file
		want  []partition.EpochEntry
		write bool // the checkpoint is rewritten at the load
	}{
		{"missing", nil, entries(0, 0, 3, 4, 6, 8), true},
		{"garbage", ptr("not a checkpoint"), entries(0, 0, 3, 4, 6, 8), true},
		{"torn", ptr("0\n3\n0 0\n3 4\n"), entries(0, 0, 3, 4, 6, 8), true},
		{"out of order", ptr("0\n3\n0 0\n6 8\n3 4\n"), entries(0, 0, 3, 4, 6, 8), true},
		{"an epoch the batches do not carry", ptr("0\n3\n0 0\n4 4\n6 8\n"), entries(0, 0, 3, 4, 6, 8), true},
		{"an epoch starting at the wrong batch", ptr("0\n3\n0 0\n3 6\n6 8\n"), entries(0, 0, 3, 4, 6, 8), true},
		{"an epoch missing", ptr("0\n2\n0 0\n6 8\n"), entries(0, 0, 3, 4, 6, 8), true},
		{"the first epoch missing", ptr("0\n2\n3 4\n6 8\n"), entries(0, 0, 3, 4, 6, 8), true},
		{"an epoch starting inside a batch", ptr("0\n3\n0 0\n3 5\n6 8\n"), entries(0, 0, 3, 4, 6, 8), true},
		{"ahead of the log", ptr("0\n5\n0 0\n3 4\n6 8\n7 12\n9 20\n"), entries(0, 0, 3, 4, 6, 8), false},
		{"right", ptr("0\n3\n0 0\n3 4\n6 8\n"), entries(0, 0, 3, 4, 6, 8), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			p := openDir(t, fsys, leaderDir, partition.Options{SegmentBytes: 300})
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.AssignEpoch(3))
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.AssignEpoch(6))
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.Close())
			if tc.file == nil {
				require.NoError(t, fsys.Remove(epochFile))
			} else {
				diskReplace(t, fsys, epochFile, []byte(*tc.file))
			}

			p = openDir(t, fsys, leaderDir, partition.Options{SegmentBytes: 300})
			defer p.Close()
			got, err := p.Epochs()
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, int32(6), p.LeaderEpoch())
			if tc.write {
				requireEpochs(t, fsys, p, tc.want)
			}
			e, end, err := p.EndOffsetForEpoch(3)
			require.NoError(t, err)
			require.Equal(t, "3@8", fmt.Sprintf("%d@%d", e, end))
			appendBatches(t, p, 1)
			require.Equal(t, int32(6), headers(t, fetchAll(t, p, 12))[0].PartitionLeaderEpoch)
		})
	}
}

func ptr(s string) *string { return &s }

// A crash that loses the batches of an epoch whose start the checkpoint recorded
// leaves the checkpoint ahead of the log: the reopened partition forgets that
// epoch.
func TestEpochsCheckpointAheadAfterCrash(t *testing.T) {
	for _, mode := range crashModes {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			opts := partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}}
			p := openDir(t, fsys, leaderDir, opts)
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.Sync(context.Background()))
			require.NoError(t, p.AssignEpoch(2))
			appendBatches(t, p, 3) // never fsynced
			crashed := fsys.Crash(mode, 7)
			require.NoError(t, p.Close())

			p = openDir(t, crashed, leaderDir, opts)
			defer p.Close()
			survived := fetchAll(t, p, 0)
			got, err := p.Epochs()
			require.NoError(t, err)
			require.Equal(t, epochsOf(t, survived, 0), got)
			if p.WrittenOffset() == 4 {
				require.Equal(t, entries(0, 0), got)
				e, end, err := p.EndOffsetForEpoch(2)
				require.NoError(t, err)
				require.Equal(t, partition.NoEpoch, e)
				require.Equal(t, partition.NoOffset, end)
			}
			// The replica that comes back as leader assigns its epoch again.
			require.NoError(t, p.AssignEpoch(3))
			appendBatches(t, p, 1)
			got, err = p.Epochs()
			require.NoError(t, err)
			require.Equal(t, epochsOf(t, fetchAll(t, p, 0), 0), got)
		})
	}
}

// TruncateTo drops the epochs that began at or above the new end, in the cache and
// in the checkpoint; a cache not loaded yet is trimmed when it is.
func TestTruncateToTrimsEpochs(t *testing.T) {
	for _, loaded := range []bool{true, false} {
		t.Run(fmt.Sprintf("loaded=%v", loaded), func(t *testing.T) {
			fsys := vfs.NewMem()
			opts := partition.Options{SegmentBytes: 300}
			p := openDir(t, fsys, leaderDir, opts)
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.AssignEpoch(3))
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.AssignEpoch(6))
			appendBatches(t, p, 2, 2)
			if !loaded {
				require.NoError(t, p.Close())
				p = openDir(t, fsys, leaderDir, opts)
			}
			defer func() { p.Close() }()

			end, err := p.TruncateTo(9) // inside epoch 6's first batch, 8-9
			require.NoError(t, err)
			require.Equal(t, int64(8), end)
			if loaded {
				require.Equal(t, "0\n2\n0 0\n3 4\n", string(diskRead(t, fsys, epochFile)))
			}
			requireEpochsAfterTruncate := func(want []partition.EpochEntry) {
				t.Helper()
				got, err := p.Epochs()
				require.NoError(t, err)
				require.Equal(t, want, got)
				require.Equal(t, epochsOf(t, fetchAll(t, p, 0), 0), got)
			}
			requireEpochsAfterTruncate(entries(0, 0, 3, 4))
			e, end, err := p.EndOffsetForEpoch(3)
			require.NoError(t, err)
			require.Equal(t, "3@8", fmt.Sprintf("%d@%d", e, end))

			end, err = p.TruncateTo(4)
			require.NoError(t, err)
			require.Equal(t, int64(4), end)
			requireEpochsAfterTruncate(entries(0, 0))
			require.Equal(t, "0\n1\n0 0\n", string(diskRead(t, fsys, epochFile)))

			// A new epoch after the truncation, then a reopen.
			require.NoError(t, p.AssignEpoch(7))
			appendBatches(t, p, 2)
			requireEpochs(t, fsys, p, entries(0, 0, 7, 4))
			require.NoError(t, p.Close())
			p = openDir(t, fsys, leaderDir, opts)
			requireEpochsAfterTruncate(entries(0, 0, 7, 4))
		})
	}
}

// Epochs wholly below the log start offset leave the cache, and the epoch holding
// the start offset begins there, as Kafka's truncateFromStart does, whether
// DeleteRecordsBefore or retention moved it: the same answers before and after a
// reopen.
func TestEpochsFollowStartOffset(t *testing.T) {
	for _, retention := range []bool{false, true} {
		t.Run(fmt.Sprintf("retention=%v", retention), func(t *testing.T) {
			fsys := vfs.NewMem()
			var bases []int64
			opts := partition.Options{SegmentBytes: 300, Hooks: partition.Hooks{OnRoll: func(e partition.RollEvent) { bases = append(bases, e.BaseOffset) }}}
			p := openDir(t, fsys, leaderDir, opts)
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.AssignEpoch(3))
			appendBatches(t, p, 2, 2)
			require.NoError(t, p.AssignEpoch(6))
			appendBatches(t, p, 2, 2)
			_, err := p.Epochs() // loaded
			require.NoError(t, err)
			want, endOfZero := entries(3, 5, 6, 8), "0@5"
			if retention {
				require.NoError(t, p.Close())
				opts.RetentionBytes = 1
				p = openDir(t, fsys, leaderDir, opts)
				_, err := p.Epochs()
				require.NoError(t, err)
				deleted, err := p.ApplyRetention()
				require.NoError(t, err)
				require.Positive(t, deleted)
				start := p.StartOffset()
				require.Greater(t, start, int64(4))
				require.Less(t, start, int64(8))
				want, endOfZero = entries(3, start, 6, 8), fmt.Sprintf("0@%d", start)
			} else {
				require.NoError(t, p.DeleteRecordsBefore(5))
			}
			check := func(p *partition.Partition) {
				t.Helper()
				got, err := p.Epochs()
				require.NoError(t, err)
				require.Equal(t, want, got)
				e, end, err := p.EndOffsetForEpoch(0)
				require.NoError(t, err)
				require.Equal(t, endOfZero, fmt.Sprintf("%d@%d", e, end))
			}
			check(p)
			require.NoError(t, p.Close())
			p = openDir(t, fsys, leaderDir, opts)
			defer p.Close()
			check(p)
		})
	}
}

// Appends, epoch changes, questions about epochs, fetches and truncations from many
// goroutines: no deadlock, no race (under -race), and a log whose epochs never go
// down, matching the cache.
func TestEpochsConcurrent(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, leaderDir, partition.Options{SegmentBytes: 2 << 10, Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	defer p.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	var epoch atomic.Int32
	done := make(chan struct{})
	const rounds = 300
	wg.Add(1)
	go func() { // appends
		defer wg.Done()
		defer close(done)
		for i := range rounds {
			var err error
			if i%2 == 0 {
				_, err = p.Append(ctx, records(0, 1+i%3, 5))
			} else {
				var b []byte
				b, err = segment.AppendBatch(nil, records(0, 2, 5), nil)
				if err == nil {
					_, err = p.AppendBatch(ctx, b)
				}
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Add(1)
	go func() { // a leader elected again and again
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			e := epoch.Add(1)
			if err := p.AssignEpoch(e); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() { // questions and fetches
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := p.Epochs(); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := p.EndOffsetForEpoch(epoch.Load() / 2); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := p.LatestEpoch(); err != nil {
					t.Error(err)
					return
				}
				_ = p.LeaderEpoch()
				if _, err := p.FetchReplica(nil, p.StartOffset(), 1<<10); err != nil && !errors.Is(err, errs.ErrOffsetOutOfRange) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // a follower's truncations
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if w := p.WrittenOffset(); w > 10 {
				if _, err := p.TruncateTo(w - 3); err != nil {
					t.Error(err)
					return
				}
			}
			_ = p.Changes()
		}
	}()
	wg.Wait()
	log := fetchAll(t, p, 0)
	prev := int32(-1)
	for _, h := range headers(t, log) {
		require.GreaterOrEqual(t, h.PartitionLeaderEpoch, prev, "epochs never go down in the log")
		prev = h.PartitionLeaderEpoch
	}
	got, err := p.Epochs()
	require.NoError(t, err)
	want := epochsOf(t, log, 0)
	if n := len(got); n > 0 && got[n-1].StartOffset == p.WrittenOffset() {
		got = got[:n-1] // an epoch assigned after the last append
	}
	require.Equal(t, want, got)
}

// A cache loaded before the appends of an epoch learns the epoch from them, before
// the first of its batches: epoch 0 appended after an early question about epochs,
// and the stamp appended again after TruncateTo dropped the entry where it began.
// Otherwise the cache would miss an epoch its log holds, for good: a leader would
// answer NoEpoch for the epoch of its own batches.
func TestLoadedCacheLearnsStampedEpoch(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, leaderDir, partition.Options{})
	e, end, err := p.EndOffsetForEpoch(0)
	require.NoError(t, err)
	require.Equal(t, "-1@-1", fmt.Sprintf("%d@%d", e, end), "an empty log")
	appendBatches(t, p, 2, 2)
	e, end, err = p.EndOffsetForEpoch(0)
	require.NoError(t, err)
	require.Equal(t, "0@4", fmt.Sprintf("%d@%d", e, end))
	requireEpochs(t, fsys, p, entries(0, 0))

	require.NoError(t, p.AssignEpoch(6))
	appendBatches(t, p, 2, 2)
	end, err = p.TruncateTo(4) // a follower cut back to where epoch 6 began
	require.NoError(t, err)
	require.Equal(t, int64(4), end)
	requireEpochs(t, fsys, p, entries(0, 0))
	require.Equal(t, int32(6), p.LeaderEpoch())
	appendBatches(t, p, 1)
	requireEpochs(t, fsys, p, entries(0, 0, 6, 4))
	e, end, err = p.EndOffsetForEpoch(6)
	require.NoError(t, err)
	require.Equal(t, "6@5", fmt.Sprintf("%d@%d", e, end))

	require.NoError(t, p.Close())
	p = openDir(t, fsys, leaderDir, partition.Options{})
	defer p.Close()
	requireEpochs(t, fsys, p, entries(0, 0, 6, 4))
}

// lockedBuffer is a bytes.Buffer for a logger used from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The check of a checkpoint against the log raises no false alarm on the logs strata
// writes: a compacted leader's (whose compaction removed the first batches of
// epochs), its follower's, after DeleteRecordsBefore inside an epoch, after
// TruncateTo: each reopens and keeps its checkpoint, without a rebuild.
func TestEpochsCheckNoFalseAlarm(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fsys := vfs.NewMem()
	clock := newTestClock()
	leaderOpts := compactOptions(nil, clock)
	leaderOpts.Logger = logger
	leader := openDir(t, fsys, leaderDir, leaderOpts)
	compactedLeader(t, leader, clock)
	followerOpts := partition.Options{SegmentBytes: 500, Logger: logger}
	follower := openDir(t, fsys, followerDir, followerOpts)
	replicate(t, leader, follower, 700)

	reopen := func() {
		t.Helper()
		want := map[*partition.Partition][]partition.EpochEntry{}
		for _, p := range []*partition.Partition{leader, follower} {
			got, err := p.Epochs()
			require.NoError(t, err)
			want[p] = got
		}
		wantLeader, wantFollower := want[leader], want[follower]
		require.NoError(t, leader.Close())
		require.NoError(t, follower.Close())
		leader = openDir(t, fsys, leaderDir, leaderOpts)
		follower = openDir(t, fsys, followerDir, followerOpts)
		got, err := leader.Epochs()
		require.NoError(t, err)
		require.Equal(t, wantLeader, got)
		got, err = follower.Epochs()
		require.NoError(t, err)
		require.Equal(t, wantFollower, got)
		require.NotContains(t, logs.String(), "leader epoch", "a checkpoint strata wrote was rebuilt")
	}
	reopen()
	epochs, err := leader.Epochs()
	require.NoError(t, err)
	require.Len(t, epochs, 3)
	inside := epochs[1].StartOffset + 1
	require.NoError(t, leader.DeleteRecordsBefore(inside))
	require.NoError(t, follower.DeleteRecordsBefore(inside))
	reopen()
	_, err = follower.TruncateTo(epochs[2].StartOffset + 3)
	require.NoError(t, err)
	require.NoError(t, leader.AssignEpoch(8))
	appendKVs(t, leader, clock.Millis(0), kv{"k1", "x"})
	replicate(t, leader, follower, 1<<20)
	reopen()
	requireSameLog(t, leader, follower, true)
	require.NoError(t, leader.Close())
	require.NoError(t, follower.Close())
}
