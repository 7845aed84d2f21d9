package partition_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// producedBatch is a batch a test producer appended: its sequence range and offset.
type producedBatch struct {
	sequence int32
	n        int
	base     int64
}

// testProducer appends batches of one producer id and epoch, counting sequences.
type testProducer struct {
	id      int64
	epoch   int16
	next    int32
	batches []producedBatch
}

func (tp *testProducer) produce(t testing.TB, p *partition.Partition, n int) producedBatch {
	t.Helper()
	base, err := appendProduced(p, tp.id, tp.epoch, tp.next, n)
	require.NoError(t, err)
	b := producedBatch{sequence: tp.next, n: n, base: base}
	tp.next += int32(n)
	tp.batches = append(tp.batches, b)
	return b
}

// requireDuplicate checks that a retry of b is recognised: its original offset,
// nothing written.
func (tp *testProducer) requireDuplicate(t testing.TB, p *partition.Partition, b producedBatch) {
	t.Helper()
	end := p.WrittenOffset()
	base, err := appendProduced(p, tp.id, tp.epoch, b.sequence, b.n)
	require.ErrorIs(t, err, partition.ErrDuplicateSequence, "retry of sequence %d", b.sequence)
	require.Equal(t, b.base, base)
	require.Equal(t, end, p.WrittenOffset())
}

// producedPartition opens the partition in dir and appends batches batches of two
// records from producer id.
func producedPartition(t testing.TB, fsys vfs.FS, dir string, opts partition.Options, id int64, batches int) (*partition.Partition, *testProducer) {
	t.Helper()
	p := openDir(t, fsys, dir, opts)
	tp := &testProducer{id: id}
	for range batches {
		tp.produce(t, p, 2)
	}
	return p, tp
}

func snapshotFiles(t testing.TB, fsys vfs.FS, dir string) []string {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, name := range names {
		if strings.HasSuffix(name, partition.SnapshotSuffix) {
			out = append(out, name)
		}
	}
	return out
}

func TestIdempotentStateSurvivesReopen(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 600}
	p := openDir(t, fsys, leaderDir, opts)
	a, b := &testProducer{id: 1}, &testProducer{id: 2, epoch: 4}
	for i := range 20 {
		a.produce(t, p, 1+i%3)
		if i%4 == 0 {
			b.produce(t, p, 2)
		}
	}
	end := p.WrittenOffset()
	require.NoError(t, p.Close())
	require.Contains(t, snapshotFiles(t, fsys, leaderDir), fmt.Sprintf("%020d.snapshot", end))

	p = openDir(t, fsys, leaderDir, opts)
	defer p.Close()
	// A snapshot keeps each producer's newest batch, as Kafka's does.
	a.requireDuplicate(t, p, a.batches[len(a.batches)-1])
	b.requireDuplicate(t, p, b.batches[len(b.batches)-1])
	_, err := appendProduced(p, a.id, a.epoch, a.next+1, 1)
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence)
	a.produce(t, p, 1)
	_, err = appendProduced(p, b.id, b.epoch-1, 0, 1)
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
}

// TestIdempotentStateAfterCrashAtEveryStep crashes (every crash mode) after every
// append and in the middle of every roll: on the crashed copy every acknowledged
// batch that the producer state must remember is still a duplicate (the newest
// batch of each producer, and every batch of the last five after the newest
// snapshot), and the producer continues at its next sequence.
func TestIdempotentStateAfterCrashAtEveryStep(t *testing.T) {
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.TearZeros} {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			var crashes []*vfs.CrashableFS
			var acked []int // how many batches were acknowledged at each crash
			tp := &testProducer{id: 5, epoch: 1}
			opts := partition.Options{SegmentBytes: 500, Hooks: partition.Hooks{OnRoll: func(partition.RollEvent) {
				crashes = append(crashes, fsys.Crash(mode, int64(len(crashes))))
				acked = append(acked, len(tp.batches))
			}}}
			p := openDir(t, fsys, leaderDir, opts)
			for i := range 40 {
				tp.produce(t, p, 1+i%4)
				crashes = append(crashes, fsys.Crash(mode, int64(len(crashes))))
				acked = append(acked, len(tp.batches))
			}
			require.NoError(t, p.Close())
			for i, crashed := range crashes {
				n := acked[i]
				if n == 0 {
					continue
				}
				q, err := partition.Open(leaderDir, &partition.Options{SegmentBytes: 500, FS: crashed})
				require.NoError(t, err, "crash %d", i)
				require.GreaterOrEqual(t, q.WrittenOffset(), tp.batches[n-1].base+int64(tp.batches[n-1].n), "crash %d: acknowledged records lost", i)
				after := &testProducer{id: tp.id, epoch: tp.epoch, next: tp.batches[n-1].sequence + int32(tp.batches[n-1].n)}
				after.requireDuplicate(t, q, tp.batches[n-1])
				after.produce(t, q, 1)
				require.NoError(t, q.Close())
			}
		})
	}
}

// TestIdempotentDamagedSnapshot: a damaged newest snapshot is deleted and the state
// rebuilt from an older one and the log. After a clean shutdown the snapshot is at
// the log end and read at the first use of the state; after a crash Open loads the
// state at once and reports the deletion.
func TestIdempotentDamagedSnapshot(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			opts := partition.Options{SegmentBytes: 400}
			p, tp := producedPartition(t, fsys, leaderDir, opts, 3, 30)
			var reopen vfs.FS = fsys
			if crash {
				reopen = fsys.Crash(vfs.DropUnsynced, 1)
			}
			require.NoError(t, p.Close())
			snaps := snapshotFiles(t, reopen, leaderDir)
			require.GreaterOrEqual(t, len(snaps), 2)
			damaged := snaps[len(snaps)-1]
			data, err := vfs.ReadFile(reopen, filepath.Join(leaderDir, damaged))
			require.NoError(t, err)
			data[snapshotHeaderBytes] ^= 0xff
			require.NoError(t, vfs.WriteFileAtomic(reopen, filepath.Join(leaderDir, damaged), data))

			p = openDir(t, reopen, leaderDir, opts)
			defer p.Close()
			if crash {
				require.Contains(t, p.RecoveryReport().RemovedFiles, damaged)
			}
			tp.requireDuplicate(t, p, tp.batches[len(tp.batches)-1])
			require.NotContains(t, snapshotFiles(t, reopen, leaderDir), damaged)
			tp.produce(t, p, 1)
		})
	}
}

// snapshotHeaderBytes is the size of a snapshot's header: a byte past it is an
// entry's.
const snapshotHeaderBytes = 10

// TestIdempotentTruncationForgetsRemovedBatches: after TruncateTo, a batch it
// removed is new again (appended, not answered as a duplicate), and the sequence
// continues from the last batch kept; snapshots above the new end are gone.
func TestIdempotentTruncationForgetsRemovedBatches(t *testing.T) {
	fsys := vfs.NewMem()
	p, tp := producedPartition(t, fsys, leaderDir, partition.Options{SegmentBytes: 400}, 8, 30)
	defer p.Close()
	cut := tp.batches[10]
	end, err := p.TruncateTo(cut.base)
	require.NoError(t, err)
	require.Equal(t, cut.base, end)
	for _, name := range snapshotFiles(t, fsys, leaderDir) {
		offset, _, _ := segment.ParseFileName(name)
		require.LessOrEqual(t, offset, end, name)
	}
	tp.requireDuplicate(t, p, tp.batches[9])
	_, err = appendProduced(p, tp.id, tp.epoch, tp.batches[11].sequence, 2)
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence)
	base, err := appendProduced(p, tp.id, tp.epoch, cut.sequence, 2)
	require.NoError(t, err)
	require.Equal(t, cut.base, base)
}

// TestIdempotentStateSurvivesRetention: retention deletes the segments holding a
// producer's batches; the producer is still known, across a reopen too.
func TestIdempotentStateSurvivesRetention(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 400}
	p := openDir(t, fsys, leaderDir, opts)
	tp := &testProducer{id: 4}
	for range 3 {
		tp.produce(t, p, 2)
	}
	appendBatches(t, p, slices.Repeat([]int{3}, 30)...) // plain batches roll segments
	require.NoError(t, p.DeleteRecordsBefore(p.EndOffset()-1))
	require.Greater(t, p.StartOffset(), tp.batches[2].base)
	tp.requireDuplicate(t, p, tp.batches[2])
	require.NoError(t, p.Close())

	p = openDir(t, fsys, leaderDir, opts)
	defer p.Close()
	tp.requireDuplicate(t, p, tp.batches[2])
	tp.produce(t, p, 1)
}

// TestIdempotentProducerExpires: a producer idle for ProducerIDExpiration is
// forgotten at ApplyRetention: its next batch may start at any sequence.
func TestIdempotentProducerExpires(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	opts := partition.Options{ProducerIDExpiration: time.Hour, Now: func() time.Time { return now }}
	p := openDir(t, vfs.NewMem(), leaderDir, opts)
	defer p.Close()
	tp := &testProducer{id: 6}
	tp.produce(t, p, 2) // stamped now: the batch's timestamp
	_, err := p.ApplyRetention()
	require.NoError(t, err)
	_, err = appendProduced(p, tp.id, tp.epoch, 7, 1)
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence, "an hour has not passed since the batch's timestamp")

	now = now.Add(time.Hour)
	_, err = p.ApplyRetention()
	require.NoError(t, err)
	_, err = appendProduced(p, tp.id, tp.epoch, 7, 1)
	require.NoError(t, err, "an expired producer is new")
}

func TestIdempotentStartOverForgetsProducers(t *testing.T) {
	fsys := vfs.NewMem()
	p, tp := producedPartition(t, fsys, followerDir, partition.Options{SegmentBytes: 400}, 2, 20)
	defer p.Close()
	require.NoError(t, p.TruncateFullyAndStartAt(p.WrittenOffset()+100))
	require.Empty(t, snapshotFiles(t, fsys, followerDir))
	_, err := appendProduced(p, tp.id, tp.epoch, 0, 1)
	require.NoError(t, err)
}

// TestIdempotentStateSurvivesCompaction: compaction removes every record of a
// producer (later plain records of the same key); the producer is still known, and
// after a crash and a reopen too.
func TestIdempotentStateSurvivesCompaction(t *testing.T) {
	fsys := vfs.NewCrashable()
	opts := partition.Options{SegmentBytes: 400, Compact: true}
	p := openDir(t, fsys, leaderDir, opts)
	tp := &testProducer{id: 11}
	for range 3 {
		tp.produce(t, p, 2) // keys k<offset>: records(...) with keys 1<<30 apart
	}
	for i := range 40 { // the same keys again, plainly: the producer's records go
		_, err := p.Append(context.Background(), []partition.Record{{Key: []byte(fmt.Sprintf("k%d", i%6)), Value: []byte("v")}})
		require.NoError(t, err)
	}
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.Positive(t, res.RecordsRemoved)
	kept, err := p.Read(0, 1000, 1<<20)
	require.NoError(t, err)
	for _, r := range kept {
		require.Greater(t, r.Offset, tp.batches[2].base+1, "the producer's records were compacted away")
	}
	tp.requireDuplicate(t, p, tp.batches[2])
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())

	for _, f := range []vfs.FS{fsys, crashed} {
		q := openDir(t, f, leaderDir, opts)
		tp.requireDuplicate(t, q, tp.batches[2])
		require.NoError(t, q.Close())
	}
}

// TestIdempotentCompactionKeepsProducersLastBatch: as Kafka's cleaner, compaction
// keeps the newest batch of every producer (emptied of its records if need be), so
// that the state can be rebuilt from the log alone: here after a crash that lost
// every snapshot (after a clean shutdown without any, Open would replay only the
// last two segments: producer_upgrade.go).
func TestIdempotentCompactionKeepsProducersLastBatch(t *testing.T) {
	mem := vfs.NewCrashable()
	opts := partition.Options{SegmentBytes: 400, Compact: true}
	p := openDir(t, mem, leaderDir, opts)
	tp := &testProducer{id: 12}
	for range 3 {
		tp.produce(t, p, 2)
	}
	for i := range 40 {
		_, err := p.Append(context.Background(), []partition.Record{{Key: []byte(fmt.Sprintf("k%d", i%6)), Value: []byte("v")}})
		require.NoError(t, err)
	}
	_, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	fsys := mem.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	for _, name := range snapshotFiles(t, fsys, leaderDir) {
		require.NoError(t, fsys.Remove(filepath.Join(leaderDir, name)))
	}

	p = openDir(t, fsys, leaderDir, opts)
	defer p.Close()
	tp.requireDuplicate(t, p, tp.batches[2])
	hs := headers(t, readBatchesAll(t, p, 0))
	require.EqualValues(t, tp.id, hs[0].ProducerID, "the producer's newest batch, emptied, heads the log")
	require.EqualValues(t, tp.batches[2].base, hs[0].BaseOffset)
}

// TestIdempotentTruncationKeepsProducersOfDeletedSegments: truncation reloads the
// producer state; a producer whose batches retention deleted, and whose every
// snapshot lies above the new end, must stay known (its newest batch still a
// duplicate), not become a new producer whose retry is written again.
func TestIdempotentTruncationKeepsProducersOfDeletedSegments(t *testing.T) {
	fsys := vfs.NewMem()
	p, old := producedPartition(t, fsys, leaderDir, partition.Options{}, 1, 2)
	defer p.Close()
	require.NoError(t, p.Roll())
	other := &testProducer{id: 2}
	other.produce(t, p, 2)
	cut := other.produce(t, p, 2)
	for range 4 { // snapshots above cut, more than are kept
		require.NoError(t, p.Roll())
		other.produce(t, p, 2)
	}
	require.NoError(t, p.DeleteRecordsBefore(cut.base)) // deletes the first segment
	require.Greater(t, p.StartOffset(), old.batches[1].base)
	_, err := p.TruncateTo(cut.base)
	require.NoError(t, err)
	old.requireDuplicate(t, p, old.batches[1])
}
