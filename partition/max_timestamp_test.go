package partition_test

// Tests of MaxTimestampOffset: Kafka's ListOffsets max-timestamp query (KIP-734).

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// appendStamped appends one batch whose records have the timestamps given, and
// returns its first offset.
func appendStamped(t testing.TB, p *partition.Partition, timestamps ...int64) int64 {
	t.Helper()
	records := make([]partition.Record, len(timestamps))
	for i, ts := range timestamps {
		records[i] = partition.Record{Key: []byte{byte('a' + i)}, Value: []byte("v"), Timestamp: ts}
	}
	first, err := p.Append(context.Background(), records)
	require.NoError(t, err)
	return first
}

// requireMaxTimestamp checks that p's answer is the record at offset with timestamp ts.
func requireMaxTimestamp(t testing.TB, p *partition.Partition, offset, ts int64, msg string) {
	t.Helper()
	got, found, err := p.MaxTimestampOffset()
	require.NoError(t, err, msg)
	require.True(t, found, msg)
	require.Equal(t, offset, got.Offset, msg)
	require.Equal(t, ts, got.Timestamp, msg)
}

// An empty partition has no answer; otherwise the answer is the first record of
// the greatest timestamp, wherever it lies: in the middle of a batch, in an older
// segment than a later record of the same timestamp, after reopening (the segments'
// greatest timestamps then come from their time indexes).
func TestMaxTimestampOffsetFirstRecordOfGreatestTimestamp(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{IndexIntervalBytes: 64}
	p := open(t, fsys, opts)
	_, found, err := p.MaxTimestampOffset()
	require.NoError(t, err)
	require.False(t, found, "an empty partition")

	appendStamped(t, p, 100, 300, 200) // 0-2
	requireMaxTimestamp(t, p, 1, 300, "inside the active segment's only batch")
	appendStamped(t, p, 250, 500, 100, 500) // 3-6: 4 is the first of two
	appendStamped(t, p, 400)                // 7
	require.NoError(t, p.Roll())
	appendStamped(t, p, 450, 499) // 8-9
	require.NoError(t, p.Roll())
	appendStamped(t, p, 500, 200) // 10-11: the same greatest timestamp, later
	appendStamped(t, p, 10)       // 12
	requireMaxTimestamp(t, p, 4, 500, "the first record of the greatest timestamp")

	require.NoError(t, p.Close())
	p = open(t, fsys, opts)
	defer p.Close()
	requireMaxTimestamp(t, p, 4, 500, "after reopening")

	appendStamped(t, p, 501) // 13
	requireMaxTimestamp(t, p, 13, 501, "a new greatest")
}

// Records below the start offset do not count: retention removes whole segments,
// DeleteRecordsBefore moves the start into a segment and into a batch.
func TestMaxTimestampOffsetIgnoresRecordsBelowStart(t *testing.T) {
	clock := newTestClock()
	opts := partition.Options{IndexIntervalBytes: 64, Now: clock.Now}
	p := open(t, vfs.NewMem(), opts)
	defer p.Close()
	appendStamped(t, p, 900, 100)           // 0-1
	require.NoError(t, p.Roll())            //
	appendStamped(t, p, 300, 800, 200, 700) // 2-5
	appendStamped(t, p, 600, 650)           // 6-7
	require.NoError(t, p.Roll())            //
	appendStamped(t, p, 50)                 // 8
	requireMaxTimestamp(t, p, 0, 900, "everything")

	require.NoError(t, p.DeleteRecordsBefore(2)) // the first segment goes
	requireMaxTimestamp(t, p, 3, 800, "after the first segment")
	require.NoError(t, p.DeleteRecordsBefore(4)) // inside the batch 2-5
	requireMaxTimestamp(t, p, 5, 700, "inside a batch")
	require.NoError(t, p.DeleteRecordsBefore(6))
	requireMaxTimestamp(t, p, 7, 650, "the next batch")
	require.NoError(t, p.DeleteRecordsBefore(8))
	requireMaxTimestamp(t, p, 8, 50, "the last segment")
	require.NoError(t, p.DeleteRecordsBefore(9))
	_, found, err := p.MaxTimestampOffset()
	require.NoError(t, err)
	require.False(t, found, "nothing left")
}

// Compaction removes the record of the greatest timestamp: the answer becomes the
// greatest of the records left.
func TestMaxTimestampOffsetAfterCompaction(t *testing.T) {
	clock := newTestClock()
	p := openCompacted(t, compactOptions(vfs.NewMem(), clock))
	base := clock.Millis(0)
	appendKVs(t, p, base+50, kv{"a", "1"}, kv{"b", "1"}) // 0-1 at base+50
	appendKVs(t, p, base+10, kv{"c", "1"})               // 2
	appendKVs(t, p, base+20, kv{"b", "2"})               // 3: b's latest
	require.NoError(t, p.Roll())
	appendKVs(t, p, base+5, kv{"a", "2"}) // 4: a's latest
	require.NoError(t, p.Roll())
	requireMaxTimestamp(t, p, 0, base+50, "before compaction")
	forceCompact(t, p)
	require.Equal(t, []string{"2:c=1", "3:b=2", "4:a=2"}, describe(readRecords(t, p)))
	requireMaxTimestamp(t, p, 3, base+20, "after compaction removed 0 and 1")
}

// A replicated partition answers from what readers see, below the high watermark.
func TestMaxTimestampOffsetBelowHighWatermark(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Replicated: true})
	defer p.Close()
	appendStamped(t, p, 100, 200) // 0-1
	appendStamped(t, p, 300)      // 2
	_, found, err := p.MaxTimestampOffset()
	require.NoError(t, err)
	require.False(t, found, "nothing readable yet")
	_, err = p.SetHighWatermark(2)
	require.NoError(t, err)
	requireMaxTimestamp(t, p, 1, 200, "the record of 300 is above the high watermark")
	_, err = p.SetHighWatermark(3)
	require.NoError(t, err)
	requireMaxTimestamp(t, p, 2, 300, "readable now")
}
