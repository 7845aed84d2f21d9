package log_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// storeFiles returns every file under /data with its content.
func storeFiles(t *testing.T, fsys vfs.FS) map[string]string {
	t.Helper()
	files := map[string]string{}
	var walk func(dir string)
	walk = func(dir string) {
		names, err := fsys.ReadDir(dir)
		require.NoError(t, err)
		for _, name := range names {
			path := filepath.Join(dir, name)
			info, err := fsys.Stat(path)
			require.NoError(t, err)
			if info.IsDir() {
				walk(path)
				continue
			}
			data, err := vfs.ReadFile(fsys, path)
			require.NoError(t, err)
			files[path] = string(data)
		}
	}
	walk("/data")
	return files
}

// Scrub reads a closed store without changing a byte (beyond its lock file) and
// names the damaged partition; it refuses a store that is open.
func TestScrubStore(t *testing.T) {
	fsys, _ := damagedStore(t)
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/.lock", nil))
	before := storeFiles(t, fsys)
	report, err := log.Scrub("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	require.False(t, report.Healthy())
	require.Equal(t, before, storeFiles(t, fsys))
	require.Len(t, report.Partitions, 4)
	for _, p := range report.Partitions {
		require.NoError(t, p.Err)
		if p.TopicPartition == tp("orders", 1) {
			require.Len(t, p.Problems, 1)
			require.ErrorIs(t, p.Problems[0], log.ErrCorrupt)
			continue
		}
		require.Empty(t, p.Problems, "%s", p.TopicPartition)
		require.Positive(t, p.Batches)
	}

	s := openStore(t, fsys, nil)
	_, err = log.Scrub("/data", &log.Options{FS: fsys})
	require.ErrorIs(t, err, log.ErrLocked)
	report, err = s.Verify(testContext(t))
	require.NoError(t, err)
	require.False(t, report.Healthy(), "the offline partition is scrubbed too")
}

// Repair of a closed store's offline partition: the next Open has it online with
// its records.
func TestRepairClosedStore(t *testing.T) {
	fsys, _ := damagedStore(t)
	report, err := log.Repair("/data", tp("orders", 1), &log.Options{FS: fsys}, nil)
	require.NoError(t, err)
	require.NotEmpty(t, report.Problems)
	require.Equal(t, int64(4), report.EndOffset)
	s := openStore(t, fsys, nil)
	require.Empty(t, s.OfflinePartitions())
	require.Equal(t, int64(4), describe(t, s, "orders").Partitions[1].EndOffset)
	_, err = log.Repair("/data", tp("orders", 1), &log.Options{FS: fsys}, nil)
	require.ErrorIs(t, err, log.ErrLocked)
	require.NoError(t, s.Close())
	_, err = log.Repair("/data", tp("orders", 7), &log.Options{FS: fsys}, nil)
	require.ErrorIs(t, err, log.ErrUnknownPartition)
	_, err = log.Repair("/data", tp("nope", 0), &log.Options{FS: fsys}, nil)
	require.ErrorIs(t, err, log.ErrUnknownTopic)
}

// An open store repairs an offline partition, and an online one whose damage only a
// read or Verify finds: the partition is closed, repaired, and online again, with
// the offsets given up reported and a copy of what was removed kept.
func TestStoreRepairPartition(t *testing.T) {
	fsys, _ := damagedStore(t)
	// Damage orders-2 inside its second batch's records too: Open does not read
	// them (a clean shutdown), a reader does.
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	produce(t, s, "orders", 2, 3)
	require.NoError(t, s.Close())
	flipRecordByte(t, fsys, "/data/orders-2/"+segment.FileName(0, segment.LogSuffix), 1)

	s = openStore(t, fsys, nil)
	ctx := testContext(t)
	require.Len(t, s.OfflinePartitions(), 1)
	report, err := s.RepairPartition(ctx, tp("orders", 1), nil)
	require.NoError(t, err)
	require.NotEmpty(t, report.Problems)
	require.Empty(t, s.OfflinePartitions())

	verified, err := s.Verify(ctx)
	require.NoError(t, err)
	require.False(t, verified.Healthy())
	report, err = s.RepairPartition(ctx, tp("orders", 2), &partition.RepairOptions{KeepLater: true})
	require.NoError(t, err)
	require.Equal(t, []partition.OffsetRange{{From: 4, To: 7}}, report.Lost)
	require.NotEmpty(t, report.KeepDir)
	require.Equal(t, int64(7), report.EndOffset)
	verified, err = s.Verify(ctx)
	require.NoError(t, err)
	require.True(t, verified.Healthy(), "%+v", verified)

	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Assign(tp("orders", 2)))
	records := pollN(t, c, 4)
	require.Len(t, records, 4)
	produce(t, s, "orders", 2, 1)
	require.Equal(t, int64(8), describe(t, s, "orders").Partitions[2].EndOffset)
	_, err = s.RepairPartition(ctx, tp("orders", 9), nil)
	require.ErrorIs(t, err, log.ErrUnknownPartition)
}

// flipRecordByte flips a bit inside the records of the batch-th batch of a .log (its
// CRC then fails).
func flipRecordByte(t *testing.T, fsys vfs.FS, path string, batch int) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	var pos int64
	for range batch {
		head := make([]byte, segment.BatchHeaderSize)
		_, err := f.ReadAt(head, pos)
		require.NoError(t, err)
		h, err := segment.ParseBatchHeader(head, segment.DefaultMaxBatchBytes)
		require.NoError(t, err)
		pos += int64(h.Size())
	}
	b := make([]byte, 1)
	_, err = f.ReadAt(b, pos+segment.BatchHeaderSize)
	require.NoError(t, err)
	b[0] ^= 0x40
	_, err = f.WriteAt(b, pos+segment.BatchHeaderSize)
	require.NoError(t, err)
}
