package partition_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
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

// upgradeLog is a partition of many segments for the upgrade tests: producer 1
// writes only in the first segments, producer 2 throughout (its newest batches in
// the last segment), producer 3's transaction begins in the first segment and
// aborts in the last one. oldBatch is the position in the first segment's .log of
// a batch of producer 1 that is neither its first nor its last batch.
type upgradeLog struct {
	old, recent *testProducer
	aborted     partition.AbortedTxn
	end         int64
}

const upgradeDir = partitionDir // segmentBases lists it

// upgradeOptions index every batch, so that Open checks only the last batches of a
// sealed segment (segment.Open checks the batches after the last index entry).
func upgradeOptions() partition.Options {
	return partition.Options{SegmentBytes: 1000, IndexIntervalBytes: 1}
}

// writeUpgradeLog writes the log on fsys and returns p still open.
func writeUpgradeLog(t *testing.T, fsys vfs.FS) (*partition.Partition, upgradeLog) {
	t.Helper()
	p := openDir(t, fsys, upgradeDir, upgradeOptions())
	u := upgradeLog{old: &testProducer{id: 1}, recent: &testProducer{id: 2}}
	first, err := appendTransactional(p, 3, 0, 0, 1)
	require.NoError(t, err)
	for range 6 {
		u.old.produce(t, p, 2)
	}
	for range 12 {
		u.recent.produce(t, p, 2)
		appendBatches(t, p, 3, 3)
	}
	last := endTxn(t, p, 3, 0, partition.MarkerAbort)
	u.aborted = partition.AbortedTxn{ProducerID: 3, FirstOffset: first, LastOffset: last}
	for range 5 {
		u.recent.produce(t, p, 2)
	}
	u.end = p.WrittenOffset()
	require.GreaterOrEqual(t, len(segmentBases(t, fsys)), 5, "the test needs segments outside the last two")
	return p, u
}

// removeSnapshots deletes every producer snapshot in dir: the partition looks as
// one written before they existed.
func removeSnapshots(t testing.TB, fsys vfs.FS, dir string) {
	t.Helper()
	for _, name := range snapshotFiles(t, fsys, dir) {
		require.NoError(t, fsys.Remove(filepath.Join(dir, name)))
	}
	require.NoError(t, fsys.SyncDir(dir))
}

// damageOldBatch breaks the magic byte of the third batch of the first segment (a
// batch of producer 1, neither the segment's first nor its last): a replay of the
// first segment fails on it, with ErrCorrupt.
func damageOldBatch(t testing.TB, fsys vfs.FS, dir string) {
	t.Helper()
	path := filepath.Join(dir, segment.FileName(0, segment.LogSuffix))
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	var pos int64
	for range 2 {
		header := make([]byte, segment.BatchHeaderSize)
		_, err := f.ReadAt(header, pos)
		require.NoError(t, err)
		h, err := segment.ParseBatchHeader(header, 1<<30)
		require.NoError(t, err)
		pos += int64(h.Size())
	}
	const magicAt = 16 // baseOffset int64, batchLength int32, partitionLeaderEpoch int32
	_, err = f.WriteAt([]byte{0x7f}, pos+magicAt)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
}

// TestIdempotentUpgradeOpenReplaysOnlyLastSegments: after a clean shutdown without
// any producer snapshot (a log written before they existed), Open rebuilds the
// producer state from the last two segments only, as Kafka's upgrade rule: damage in
// an older segment's batch headers, which a replay of every segment fails on, does
// not fail it. Retries of the newest batches are duplicates; the aborted
// transaction that began in the first segment is still skipped; snapshots are
// written at the last two segments' bases and at the log end.
func TestIdempotentUpgradeOpenReplaysOnlyLastSegments(t *testing.T) {
	fsys := vfs.NewMem()
	p, u := writeUpgradeLog(t, fsys)
	require.NoError(t, p.Close())
	removeSnapshots(t, fsys, upgradeDir)
	damageOldBatch(t, fsys, upgradeDir)
	bases := segmentBases(t, fsys)

	p = openDir(t, fsys, upgradeDir, upgradeOptions())
	require.True(t, p.RecoveryReport().CleanShutdown)
	require.Equal(t, []string{
		fmt.Sprintf("%020d.snapshot", bases[len(bases)-2]),
		fmt.Sprintf("%020d.snapshot", bases[len(bases)-1]),
		fmt.Sprintf("%020d.snapshot", u.end),
	}, snapshotFiles(t, fsys, upgradeDir))
	for _, b := range u.recent.batches[len(u.recent.batches)-5:] {
		u.recent.requireDuplicate(t, p, b)
	}
	require.Equal(t, []partition.AbortedTxn{u.aborted}, abortedIDs(p.AbortedTxns(0, p.WrittenOffset())))
	// Producer 1, known only below the last two segments, is forgotten as Kafka's
	// upgrade forgets it: a new producer to the partition, at any sequence.
	_, err := appendProduced(p, u.old.id, u.old.epoch, u.old.next+7, 1)
	require.NoError(t, err)
	u.recent.produce(t, p, 1)
	require.NoError(t, p.Close())

	// The next Open loads Close's snapshot.
	p = openDir(t, fsys, upgradeDir, upgradeOptions())
	defer p.Close()
	u.recent.requireDuplicate(t, p, u.recent.batches[len(u.recent.batches)-1])
}

// abortedIDs keeps what AbortedTxns's caller compares: producer and range.
func abortedIDs(txns []partition.AbortedTxn) []partition.AbortedTxn {
	out := make([]partition.AbortedTxn, len(txns))
	for i, a := range txns {
		out[i] = partition.AbortedTxn{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset, LastOffset: a.LastOffset}
	}
	return out
}

// TestIdempotentUncleanOpenWithoutSnapshotsReplaysAll: after an unclean shutdown
// without any snapshot, Open replays every segment, as before: every producer is
// known, and damage in the first segment's batch headers is found.
func TestIdempotentUncleanOpenWithoutSnapshotsReplaysAll(t *testing.T) {
	mem := vfs.NewCrashable()
	p, u := writeUpgradeLog(t, mem)
	crashed := mem.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	removeSnapshots(t, crashed, upgradeDir)
	damaged := crashed.Crash(vfs.DropUnsynced, 2) // a copy
	damageOldBatch(t, damaged, upgradeDir)

	p = openDir(t, crashed, upgradeDir, upgradeOptions())
	require.False(t, p.RecoveryReport().CleanShutdown)
	u.old.requireDuplicate(t, p, u.old.batches[len(u.old.batches)-1])
	u.recent.requireDuplicate(t, p, u.recent.batches[len(u.recent.batches)-1])
	require.NoError(t, p.Close())

	opts := upgradeOptions()
	opts.FS = damaged
	_, err := partition.Open(upgradeDir, &opts)
	require.ErrorIs(t, err, partition.ErrCorrupt, "the replay reads the first segment")
}

// TestTxnUpgradeOpenWithOpenTransactionReplaysAll: a clean shutdown without
// snapshots, but a transaction open at the log end: it may have begun before the
// last two segments (here it did), so Open replays every segment and the last
// stable offset is the transaction's first offset.
func TestTxnUpgradeOpenWithOpenTransactionReplaysAll(t *testing.T) {
	fsys := vfs.NewMem()
	p, u := writeUpgradeLog(t, fsys)
	first, err := appendTransactional(p, 4, 0, 0, 1)
	require.NoError(t, err)
	for range 30 {
		appendBatches(t, p, 3, 3)
	}
	_, err = appendTransactional(p, 4, 0, 1, 1)
	require.NoError(t, err)
	require.Less(t, first, segmentBases(t, fsys)[len(segmentBases(t, fsys))-2])
	require.Equal(t, first, p.LastStableOffset())
	require.NoError(t, p.Close())
	removeSnapshots(t, fsys, upgradeDir)

	p = openDir(t, fsys, upgradeDir, upgradeOptions())
	defer p.Close()
	require.Equal(t, first, p.LastStableOffset())
	u.old.requireDuplicate(t, p, u.old.batches[len(u.old.batches)-1])
}

// TestTxnUpgradeProducerWithOnlyMarkerInTailIsUnknown: after the upgrade Open, a
// producer whose batches all lie below the last two segments, and only its
// marker in them, is unknown (as every producer below the tail), not an entry
// with an epoch and no sequence that refuses its next batch as out of order.
func TestTxnUpgradeProducerWithOnlyMarkerInTailIsUnknown(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, upgradeDir, upgradeOptions())
	rs := records(0, 3, 1<<30)
	for i := range rs {
		rs[i].Timestamp = 0
	}
	_, err := p.AppendWith(t.Context(), rs, &partition.AppendOptions{Producer: &partition.Producer{ID: 5, Transactional: true}})
	require.NoError(t, err)
	for range 40 {
		appendBatches(t, p, 2)
	}
	endTxn(t, p, 5, 0, partition.MarkerCommit) // in the last segment
	require.NoError(t, p.Close())
	removeSnapshots(t, fsys, upgradeDir)
	p = openDir(t, fsys, upgradeDir, upgradeOptions())
	defer p.Close()
	_, err = p.AppendWith(t.Context(), rs, &partition.AppendOptions{Producer: &partition.Producer{ID: 5, BaseSequence: 3, Transactional: true}})
	require.NoError(t, err)
}
