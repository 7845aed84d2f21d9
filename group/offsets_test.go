package group

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

const offsetsDir = "/data/__consumer_offsets-0"

func openStore(t testing.TB, fsys vfs.FS) *PartitionOffsetStore {
	t.Helper()
	s, err := OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: fsys})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func committed(offset int64, metadata string, ms int64) CommittedOffset {
	return CommittedOffset{Offset: offset, Metadata: metadata, CommitTime: time.UnixMilli(ms)}
}

// requireOffsets compares offsets, commit times by instant.
func requireOffsets(t testing.TB, want, got map[TopicPartition]CommittedOffset) {
	t.Helper()
	require.Len(t, got, len(want))
	for tp, w := range want {
		g, ok := got[tp]
		require.True(t, ok, "missing %v", tp)
		require.Equal(t, w.Offset, g.Offset, "%v", tp)
		require.Equal(t, w.Metadata, g.Metadata, "%v", tp)
		require.True(t, w.CommitTime.Equal(g.CommitTime), "%v: %v != %v", tp, w.CommitTime, g.CommitTime)
	}
}

// Commits, deletions and group records survive a reopen: the store replays its
// log, the latest record of each key winning and tombstones removing.
func TestPartitionOffsetStoreReplay(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := context.Background()
	s := openStore(t, fsys)
	require.NoError(t, s.Write(ctx, "g1", Write{Commits: map[TopicPartition]CommittedOffset{
		tp("orders", 0): committed(10, "a", 1), tp("orders", 1): committed(20, "", 1), tp("payments", 0): committed(5, "", 1),
	}}))
	require.NoError(t, s.Write(ctx, "g1", Write{Commits: map[TopicPartition]CommittedOffset{tp("orders", 0): committed(11, "b", 2)}}))
	require.NoError(t, s.Write(ctx, "g1", Write{Deletes: []TopicPartition{tp("payments", 0)}}))
	require.NoError(t, s.Write(ctx, "g2", Write{Commits: map[TopicPartition]CommittedOffset{tp("orders", 0): committed(3, "", 3)}}))
	record := GroupRecord{ProtocolType: ProtocolTypeConsumer, Generation: 4, StateTime: time.UnixMilli(99)}
	require.NoError(t, s.Write(ctx, "g3", Write{Group: &record}))
	require.NoError(t, s.Write(ctx, "g2", Write{Deletes: []TopicPartition{tp("orders", 0)}}))
	want := map[TopicPartition]CommittedOffset{tp("orders", 0): committed(11, "b", 2), tp("orders", 1): committed(20, "", 1)}
	requireOffsets(t, want, s.Offsets("g1"))
	require.Equal(t, []string{"g1", "g3"}, s.Groups())
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Write(ctx, "g1", Write{Deletes: []TopicPartition{tp("orders", 0)}}), ErrClosed)

	s = openStore(t, fsys)
	requireOffsets(t, want, s.Offsets("g1"))
	require.Nil(t, s.Offsets("g2"))
	require.Equal(t, []string{"g1", "g3"}, s.Groups())
	got, ok := s.Group("g3")
	require.True(t, ok)
	require.Equal(t, int32(4), got.Generation)
	require.True(t, got.StateTime.Equal(record.StateTime))

	// Deleting a group record: gone after a reopen too.
	require.NoError(t, s.Write(ctx, "g3", Write{DeleteGroup: true}))
	require.NoError(t, s.Close())
	s = openStore(t, fsys)
	_, ok = s.Group("g3")
	require.False(t, ok)
	require.Equal(t, []string{"g1"}, s.Groups())
}

// A commit of many partitions is one append of one batch; the records are Kafka's.
func TestPartitionOffsetStoreOneBatchPerWrite(t *testing.T) {
	s := openStore(t, vfs.NewMem())
	commits := make(map[TopicPartition]CommittedOffset)
	for p := range 100 {
		commits[tp("orders", int32(p))] = committed(int64(p), "", 1)
	}
	before := s.Partition().Stats().Appends
	require.NoError(t, s.Write(context.Background(), "g", Write{Commits: commits, Deletes: []TopicPartition{tp("gone", 0)}}))
	stats := s.Partition().Stats()
	require.Equal(t, before+1, stats.Appends)
	require.Equal(t, int64(101), stats.EndOffset)
	records, err := s.Partition().Read(0, 2, 1<<20)
	require.NoError(t, err)
	require.Equal(t, encodeOffsetKey("g", tp("orders", 0)), records[0].Key)
	require.Equal(t, encodeOffsetValue(committed(0, "", 1)), records[0].Value)
	last, err := s.Partition().Read(100, 1, 1<<20)
	require.NoError(t, err)
	require.Equal(t, encodeOffsetKey("g", tp("gone", 0)), last[0].Key)
	require.Nil(t, last[0].Value, "a deletion is a tombstone")
}

// A record that does not decode (junk written by hand, a record of a future
// version) is skipped and reported, with a *CorruptError naming the segment,
// position and offset: it does not make the whole offsets log unreadable, and the
// records around it still count.
func TestPartitionOffsetStoreSkipsUndecodableRecords(t *testing.T) {
	fsys := vfs.NewMem()
	p, err := partition.Open(offsetsDir, &partition.Options{FS: fsys})
	require.NoError(t, err)
	_, err = p.Append(context.Background(), []partition.Record{
		{Key: encodeOffsetKey("g", tp("t", 0)), Value: encodeOffsetValue(committed(1, "", 1))},
		{Key: []byte{0, 9, 0, 0}, Value: []byte{1}},
		{Key: encodeOffsetKey("h", tp("t", 0)), Value: []byte{0, 3, 1}}, // a value cut short
		{Key: encodeOffsetKey("g", tp("t", 1)), Value: encodeOffsetValue(committed(7, "", 1))},
	})
	require.NoError(t, err)
	s, err := NewPartitionOffsetStore(p)
	require.NoError(t, err)
	requireOffsets(t, map[TopicPartition]CommittedOffset{tp("t", 0): committed(1, "", 1), tp("t", 1): committed(7, "", 1)}, s.Offsets("g"))
	require.Equal(t, []string{"g"}, s.Groups())
	skipped := s.Skipped()
	require.Len(t, skipped, 2)
	require.Equal(t, int64(1), skipped[0].Offset)
	require.Equal(t, int64(2), skipped[1].Offset)
	require.ErrorIs(t, skipped[0].Err, ErrCorrupt)
	var corrupt *CorruptError
	require.ErrorAs(t, skipped[0].Err, &corrupt)
	require.Contains(t, corrupt.Path, ".log")
	require.Contains(t, corrupt.Reason, "offset 1")
	require.NoError(t, p.Close())
}

// After a crash (power loss, every CrashMode, many seeds) the reopened store has
// every acknowledged commit: the partition fsyncs before acknowledging.
func TestPartitionOffsetStoreCrash(t *testing.T) {
	seeds := 20
	if longRun() {
		seeds = 500
	}
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix, vfs.TearGarbage, vfs.TearZeros} {
		for seed := range int64(seeds) {
			t.Run(fmt.Sprintf("%v/seed=%d", mode, seed), func(t *testing.T) {
				fsys := vfs.NewCrashable()
				s, err := OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: fsys})
				require.NoError(t, err)
				acknowledged := make(map[TopicPartition]CommittedOffset)
				for i := range 30 {
					p := tp("orders", int32((int64(i)*7+seed)%5))
					o := committed(int64(i), fmt.Sprint(i), int64(i))
					w := Write{Commits: map[TopicPartition]CommittedOffset{p: o}}
					if i%9 == 8 {
						w = Write{Deletes: []TopicPartition{p}}
					}
					require.NoError(t, s.Write(context.Background(), "g", w))
					if w.Commits != nil {
						acknowledged[p] = o
					} else {
						delete(acknowledged, p)
					}
				}
				after := fsys.Crash(mode, seed)
				s2, err := OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: after})
				require.NoError(t, err)
				defer s2.Close()
				requireOffsets(t, acknowledged, s2.Offsets("g"))
				s.Close()
			})
		}
	}
}

// The in-memory store behaves like the partition store, and copies what it returns.
func TestMemoryOffsetStore(t *testing.T) {
	s := NewMemoryOffsetStore()
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, "g", Write{Commits: map[TopicPartition]CommittedOffset{tp("t", 0): committed(1, "", 1)}}))
	got := s.Offsets("g")
	got[tp("t", 1)] = committed(2, "", 2)
	require.Len(t, s.Offsets("g"), 1)
	require.NoError(t, s.Write(ctx, "g", Write{Deletes: []TopicPartition{tp("t", 0)}}))
	require.Empty(t, s.Groups())
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.Write(cancelled, "g", Write{DeleteGroup: true}), context.Canceled)
}
