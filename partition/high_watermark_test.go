package partition_test

// Tests of the high watermark of a Replicated partition (high_watermark.go): what
// readers see, how SetHighWatermark moves it, Changes, and what retention,
// compaction, truncation and reopening do with it.

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// requireHighWatermark checks that every way of reading agrees that hw is the end:
// records below it are read, none at or above it.
func requireHighWatermark(t testing.TB, p *partition.Partition, hw int64) {
	t.Helper()
	start := p.StartOffset()
	require.Equal(t, hw, p.HighWatermark())
	require.Equal(t, hw, p.EndOffset())
	require.Equal(t, hw, p.Stats().EndOffset)
	require.Equal(t, span(start, hw), offsetsRead(t, p, start), "Read")

	// ReadBatches: whole batches ending exactly at hw.
	b := readBatchesAll(t, p, start)
	if hw > start {
		hs := headers(t, b)
		require.Equal(t, hw, hs[len(hs)-1].NextOffset(), "ReadBatches")
	} else {
		require.Empty(t, b)
	}
	b, err := p.ReadBatches(nil, hw, 1<<20)
	require.NoError(t, err)
	require.Empty(t, b, "ReadBatches at the high watermark")
	_, err = p.ReadBatches(nil, hw+1, 1<<20)
	require.ErrorIs(t, err, errs.ErrOffsetOutOfRange)
	_, err = p.Read(hw+1, 0, 1<<20)
	require.ErrorIs(t, err, errs.ErrOffsetOutOfRange)

	// A Reader stops at hw.
	r := p.NewReader(start, 0)
	var n int64
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			break
		}
		require.Equal(t, start+n, rec.Offset)
		n++
	}
	require.Equal(t, hw-start, n)
	require.Equal(t, hw, r.Offset())

	// Locate finds what is below, nothing at or above.
	if hw > start {
		loc, err := p.Locate(hw - 1)
		require.NoError(t, err)
		require.Equal(t, hw-1, loc.BatchLast)
	}
	_, err = p.Locate(hw)
	require.ErrorIs(t, err, errs.ErrOffsetOutOfRange)

	// Waiting: a record below hw is there, the one at hw is not.
	if hw > start {
		require.True(t, isClosed(p.Readable(hw-1)))
		require.NoError(t, p.Wait(context.Background(), hw-1))
	}
	require.False(t, isClosed(p.Readable(hw)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, p.Wait(ctx, hw), context.Canceled)
}

// A Replicated partition shows readers nothing until its owner sets the high
// watermark, then exactly the whole batches below it, never above what was
// acknowledged; the high watermark never moves back.
func TestReplicatedReadersSeeNothingAboveHighWatermark(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Replicated: true})
	defer p.Close()
	appendBatches(t, p, 2, 2, 2, 2, 2) // batches 0-1, 2-3, 4-5, 6-7, 8-9
	require.Equal(t, int64(10), p.WrittenOffset())
	require.Equal(t, int64(10), p.AcknowledgedOffset())
	requireHighWatermark(t, p, 0)

	for _, step := range []struct {
		set, want int64
	}{
		{4, 4},    // a batch boundary
		{5, 4},    // inside batch 4-5: its start
		{3, 4},    // never back
		{4, 4},    // the same again
		{7, 6},    // inside batch 6-7
		{100, 10}, // clamped to the acknowledged offset
		{0, 10},
	} {
		hw, err := p.SetHighWatermark(step.set)
		require.NoError(t, err, "SetHighWatermark(%d)", step.set)
		require.Equal(t, step.want, hw, "SetHighWatermark(%d)", step.set)
		requireHighWatermark(t, p, step.want)
	}
	appendBatches(t, p, 3)
	require.Equal(t, int64(13), p.AcknowledgedOffset())
	requireHighWatermark(t, p, 10) // an append does not move it
	hw, err := p.SetHighWatermark(13)
	require.NoError(t, err)
	require.Equal(t, int64(13), hw)
	requireHighWatermark(t, p, 13)

	require.NoError(t, p.Close())
	_, err = p.SetHighWatermark(13)
	require.ErrorIs(t, err, errs.ErrClosed)
}

// SetHighWatermark is for Replicated partitions only; a partition that is its own
// only replica shows everything acknowledged, at once.
func TestSetHighWatermarkNotReplicated(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	appendBatches(t, p, 2, 3)
	requireHighWatermark(t, p, 5)
	_, err := p.SetHighWatermark(2)
	require.ErrorIs(t, err, errs.ErrInvalidArgument)
	requireHighWatermark(t, p, 5)
	require.Equal(t, int64(5), p.AcknowledgedOffset())
}

// Under SyncEveryAppend the high watermark never passes what is fsynced and
// acknowledged, even when the owner asks for more: a Write (acks=1) is written, not
// yet acknowledged.
func TestSetHighWatermarkClampsToAcknowledged(t *testing.T) {
	gate := newSyncGate()
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Replicated: true, Hooks: partition.Hooks{OnFsync: gate.hook}})
	defer p.Close()
	appendBatches(t, p, 4)
	gate.arm()
	_, err := p.Write(context.Background(), records(4, 3, 10))
	require.NoError(t, err)
	gate.waitEntered() // the background fsync is done, its acknowledgement held
	require.Equal(t, int64(7), p.WrittenOffset())
	require.Equal(t, int64(4), p.AcknowledgedOffset())
	hw, err := p.SetHighWatermark(7)
	require.NoError(t, err)
	require.Equal(t, int64(4), hw)
	requireHighWatermark(t, p, 4)

	changes := p.Changes()
	gate.open()
	<-changes // the acknowledgement
	require.NoError(t, p.Sync(context.Background()))
	require.Equal(t, int64(7), p.AcknowledgedOffset())
	requireHighWatermark(t, p, 4)
	hw, err = p.SetHighWatermark(7)
	require.NoError(t, err)
	require.Equal(t, int64(7), hw)
	requireHighWatermark(t, p, 7)
}

// The high watermark may stop anywhere in a log of many segments: inside a sealed
// segment, exactly at a segment's base (the end of the one before), inside the
// active one; readers see exactly the batches below it.
func TestHighWatermarkAcrossSegments(t *testing.T) {
	for _, mode := range []partition.SyncMode{partition.SyncEveryAppend, partition.SyncPeriodic, partition.SyncNone} {
		t.Run(mode.String(), func(t *testing.T) {
			var bases []int64
			opts := partition.Options{Replicated: true, SegmentBytes: 1 << 10, IndexIntervalBytes: 100,
				Sync: partition.SyncPolicy{Mode: mode, EveryRecords: 1 << 20}, Hooks: partition.Hooks{OnRoll: func(e partition.RollEvent) { bases = append(bases, e.BaseOffset) }}}
			p := openDir(t, vfs.NewMem(), leaderDir, opts)
			defer p.Close()
			for range 60 {
				appendBatches(t, p, 3)
			}
			require.GreaterOrEqual(t, len(bases), 4)
			require.Equal(t, int64(180), p.AcknowledgedOffset())
			requireHighWatermark(t, p, 0)
			hw := int64(0)
			for _, target := range []int64{bases[0] - 1, bases[0], bases[1] + 4, bases[2] + 3, bases[3], 179, 180} {
				want := max(hw, target/3*3) // batches of 3 from 0
				got, err := p.SetHighWatermark(target)
				require.NoError(t, err)
				require.Equal(t, want, got, "SetHighWatermark(%d)", target)
				hw = got
				requireHighWatermark(t, p, hw)
			}
		})
	}
}

// Changes is closed at every change of the offsets: a write, an acknowledgement, a
// move of the high watermark, a truncation, Close; not when nothing moved.
func TestChanges(t *testing.T) {
	gate := newSyncGate()
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Replicated: true, Hooks: partition.Hooks{OnFsync: gate.hook}})
	appendBatches(t, p, 2, 2)

	ch := p.Changes()
	require.False(t, isClosed(ch))
	require.Equal(t, ch, p.Changes(), "the same channel until a change")
	_, err := p.SetHighWatermark(0) // nothing moves
	require.NoError(t, err)
	require.False(t, isClosed(ch))

	appendBatches(t, p, 2)
	require.True(t, isClosed(ch), "append")

	ch = p.Changes()
	_, err = p.SetHighWatermark(2)
	require.NoError(t, err)
	require.True(t, isClosed(ch), "high watermark")

	// A Write under SyncEveryAppend changes the written offset, then its fsync the
	// acknowledged one.
	gate.arm()
	ch = p.Changes()
	_, err = p.Write(context.Background(), records(6, 1, 10))
	require.NoError(t, err)
	require.True(t, isClosed(ch), "write")
	gate.waitEntered()
	ch = p.Changes()
	require.False(t, isClosed(ch))
	before := p.AcknowledgedOffset()
	gate.open()
	<-ch
	require.NoError(t, p.Sync(context.Background()))
	require.Equal(t, before+1, p.AcknowledgedOffset(), "woken by the acknowledgement")

	ch = p.Changes()
	_, err = p.SetHighWatermark(7)
	require.NoError(t, err)
	require.True(t, isClosed(ch))

	ch = p.Changes()
	end, err := p.TruncateTo(4)
	require.NoError(t, err)
	require.Equal(t, int64(4), end)
	require.True(t, isClosed(ch), "truncation")

	ch = p.Changes()
	require.NoError(t, p.Close())
	require.True(t, isClosed(ch), "close")
	require.True(t, isClosed(p.Changes()), "closed: no need to wait")
}

// Changes is closed when the partition fails: nothing will change any more.
func TestChangesOnFailure(t *testing.T) {
	var sw vfs.Switch
	p := openDir(t, vfs.NewFaulty(vfs.NewMem(), sw.Inject), leaderDir, partition.Options{Replicated: true})
	defer p.Close()
	appendBatches(t, p, 2)
	ch := p.Changes()
	sw.Set(vfs.FailOp(vfs.OpSync, syscall.EIO))
	_, err := p.Append(context.Background(), records(2, 1, 10))
	require.Error(t, err)
	require.True(t, isClosed(ch))
	require.True(t, isClosed(p.Changes()))
}

// TruncateTo below the high watermark brings it down to the new end; above it, it
// leaves it alone.
func TestTruncateLowersHighWatermark(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Replicated: true, SegmentBytes: 1 << 10})
	defer p.Close()
	for range 30 {
		appendBatches(t, p, 3)
	}
	_, err := p.SetHighWatermark(60)
	require.NoError(t, err)

	end, err := p.TruncateTo(75) // above: the high watermark stays
	require.NoError(t, err)
	require.Equal(t, int64(75), end)
	requireHighWatermark(t, p, 60)

	end, err = p.TruncateTo(50) // inside batch 48-50: cut at 48
	require.NoError(t, err)
	require.Equal(t, int64(48), end)
	require.Equal(t, int64(48), p.AcknowledgedOffset())
	requireHighWatermark(t, p, 48)

	appendBatches(t, p, 3, 3)
	requireHighWatermark(t, p, 48)
	hw, err := p.SetHighWatermark(100)
	require.NoError(t, err)
	require.Equal(t, int64(54), hw)
	requireHighWatermark(t, p, 54)
}

// Retention deletes only segments wholly below the high watermark, whatever it
// would delete otherwise.
func TestRetentionKeepsAboveHighWatermark(t *testing.T) {
	clock := newTestClock()
	var bases []int64
	opts := partition.Options{Replicated: true, SegmentBytes: 1 << 10, RetentionBytes: 1, RetentionAge: time.Minute, Now: clock.Now,
		Hooks: partition.Hooks{OnRoll: func(e partition.RollEvent) { bases = append(bases, e.BaseOffset) }}}
	p := openDir(t, vfs.NewMem(), leaderDir, opts)
	defer p.Close()
	for range 40 {
		appendBatches(t, p, 3)
	}
	clock.Advance(time.Hour) // every record is past RetentionAge, and past RetentionBytes
	require.GreaterOrEqual(t, len(bases), 4)
	segments := p.Stats().Segments
	deleted, err := p.ApplyRetention()
	require.NoError(t, err)
	require.Zero(t, deleted, "nothing is below the high watermark")
	require.Equal(t, segments, p.Stats().Segments)
	require.Equal(t, int64(0), p.StartOffset())

	// The high watermark inside the third segment: the first two go, not the third.
	hw, err := p.SetHighWatermark(bases[1] + 4)
	require.NoError(t, err)
	deleted, err = p.ApplyRetention()
	require.NoError(t, err)
	require.Equal(t, 2, deleted)
	require.Equal(t, bases[1], p.StartOffset())
	requireHighWatermark(t, p, hw)

	// Exactly at a segment's base: the segment before it goes too.
	_, err = p.SetHighWatermark(bases[2])
	require.NoError(t, err)
	deleted, err = p.ApplyRetention()
	require.NoError(t, err)
	require.Equal(t, 1, deleted)
	require.Equal(t, bases[2], p.StartOffset())
	requireHighWatermark(t, p, bases[2])

	_, err = p.SetHighWatermark(p.AcknowledgedOffset())
	require.NoError(t, err)
	require.Equal(t, span(bases[2], 120), offsetsRead(t, p, bases[2]), "what was above the high watermark is all there")
}

// Compaction cleans only segments wholly below the high watermark.
func TestCompactionKeepsAboveHighWatermark(t *testing.T) {
	clock := newTestClock()
	var bases []int64
	opts := compactOptions(nil, clock)
	opts.Replicated = true
	opts.Hooks.OnRoll = func(e partition.RollEvent) { bases = append(bases, e.BaseOffset) }
	p := openDir(t, vfs.NewMem(), leaderDir, opts)
	defer p.Close()
	for i := range 60 {
		appendKVs(t, p, clock.Millis(0), kv{"k", string(value(int64(i)))})
	}
	require.GreaterOrEqual(t, len(bases), 4)
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.False(t, res.Compacted, "nothing is below the high watermark")

	hw, err := p.SetHighWatermark(bases[1] + 1)
	require.NoError(t, err)
	res, err = p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.True(t, res.Compacted)
	require.Equal(t, 2, res.SegmentsRead, "the segments wholly below the high watermark")
	requireCompactedBelow(t, p, hw)

	_, err = p.SetHighWatermark(60)
	require.NoError(t, err)
	recs := readRecords(t, p)
	// One record of key k survives below bases[1]; every record from bases[1] on
	// is there, for compaction never saw it.
	require.Len(t, recs, 1+int(60-bases[1]))
	require.Equal(t, bases[1]-1, recs[0].Offset)
	for i, r := range recs[1:] {
		require.Equal(t, bases[1]+int64(i), r.Offset)
	}
}

// requireCompactedBelow checks that the readers of a compacted p see hw as the end.
func requireCompactedBelow(t testing.TB, p *partition.Partition, hw int64) {
	t.Helper()
	require.Equal(t, hw, p.HighWatermark())
	recs := readRecords(t, p)
	require.NotEmpty(t, recs)
	require.Less(t, recs[len(recs)-1].Offset, hw)
	_, err := p.Read(hw+1, 0, 0)
	require.ErrorIs(t, err, errs.ErrOffsetOutOfRange)
}

// The high watermark at the end of a sealed segment that compaction replaces moves
// to the cleaned segment: readers and later moves work on.
func TestCompactionSwapsHighWatermarkSegment(t *testing.T) {
	clock := newTestClock()
	opts := compactOptions(nil, clock)
	opts.Replicated = true
	p := openDir(t, vfs.NewMem(), leaderDir, opts)
	defer p.Close()
	for i := range 8 {
		appendKVs(t, p, clock.Millis(0), kv{"k", string(value(int64(i)))})
	}
	require.NoError(t, p.Roll())
	// Both the acknowledged mark and, set from it, the high watermark name the end
	// of the segment just sealed.
	hw, err := p.SetHighWatermark(8)
	require.NoError(t, err)
	require.Equal(t, int64(8), hw)
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.True(t, res.Compacted)
	recs := readRecords(t, p)
	require.Len(t, recs, 1)
	require.Equal(t, int64(7), recs[0].Offset)
	b, err := p.ReadBatches(nil, 8, 1<<20)
	require.NoError(t, err)
	require.Empty(t, b)

	appendKVs(t, p, clock.Millis(0), kv{"k", "last"})
	hw, err = p.SetHighWatermark(9)
	require.NoError(t, err)
	require.Equal(t, int64(9), hw)
	recs = readRecords(t, p)
	require.Len(t, recs, 2)
	require.Equal(t, "last", string(recs[1].Value))
}

// A reopened Replicated partition shows nothing until its owner sets the high
// watermark again: the high watermark is not persisted, and starts at the log start
// offset.
func TestReplicatedReopenStartsAtStartOffset(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{Replicated: true, SegmentBytes: 1 << 10}
	p := openDir(t, fsys, leaderDir, opts)
	for range 30 {
		appendBatches(t, p, 3)
	}
	_, err := p.SetHighWatermark(90)
	require.NoError(t, err)
	require.NoError(t, p.DeleteRecordsBefore(30))
	require.NoError(t, p.Close())

	p = openDir(t, fsys, leaderDir, opts)
	require.Equal(t, int64(30), p.StartOffset())
	require.Equal(t, int64(90), p.AcknowledgedOffset())
	requireHighWatermark(t, p, 30)
	_, err = p.SetHighWatermark(45)
	require.NoError(t, err)
	requireHighWatermark(t, p, 45)
	require.NoError(t, p.Close())

	// Without Replicated, the same directory shows everything at once.
	opts.Replicated = false
	p = openDir(t, fsys, leaderDir, opts)
	requireHighWatermark(t, p, 90)
	require.NoError(t, p.Close())
}

// A log start offset inside a batch (DeleteRecordsBefore there) is where a reopened
// Replicated partition's high watermark starts, never below it: readers at the
// start offset find the end, not an error.
func TestReplicatedReopenStartInsideBatch(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{Replicated: true}
	p := openDir(t, fsys, leaderDir, opts)
	appendBatches(t, p, 3, 3, 3)
	_, err := p.SetHighWatermark(9)
	require.NoError(t, err)
	require.NoError(t, p.DeleteRecordsBefore(4)) // inside batch 3-5
	require.NoError(t, p.Close())

	p = openDir(t, fsys, leaderDir, opts)
	defer p.Close()
	require.Equal(t, int64(4), p.StartOffset())
	require.GreaterOrEqual(t, p.HighWatermark(), p.StartOffset())
	requireHighWatermark(t, p, 4)
	hw, err := p.SetHighWatermark(5) // inside batch 3-5 still
	require.NoError(t, err)
	require.Equal(t, int64(4), hw)
	hw, err = p.SetHighWatermark(6)
	require.NoError(t, err)
	require.Equal(t, int64(6), hw)
	require.Equal(t, span(4, 6), offsetsRead(t, p, 4))
}

// requireReadableBelow checks the promise of Wait and Readable: below the end offset
// a record is readable, at every offset from the start offset on, however compaction
// spread the batches.
func requireReadableBelow(t testing.TB, p *partition.Partition) {
	t.Helper()
	for o := p.StartOffset(); o < p.EndOffset(); o++ {
		recs, err := p.Read(o, 1, 0)
		require.NoError(t, err, "Read(%d) below the high watermark %d", o, p.EndOffset())
		require.Len(t, recs, 1, "nothing at or after %d below the high watermark %d", o, p.EndOffset())
		require.GreaterOrEqual(t, recs[0].Offset, o)
		require.Less(t, recs[0].Offset, p.EndOffset())
		_, err = p.Locate(o)
		require.NoError(t, err)
	}
	_, err := p.Read(p.EndOffset(), 0, 0)
	require.NoError(t, err)
}

// A high watermark set inside a gap of a follower's log (where its compacted
// leader removed offsets), or at the start of the batch after one, stops where the
// gap begins, as one inside a batch stops at the batch's start: readers below it
// always find a record (a Reader at an offset of the gap would otherwise be told it
// is readable, and find corruption), and Wait at the end waits.
func TestHighWatermarkInGap(t *testing.T) {
	batch := func(base int64, n int) []byte {
		b, err := segment.AppendBatch(nil, records(base, n, 3), nil)
		require.NoError(t, err)
		segment.SetBaseOffset(b, base)
		return b
	}
	for _, segmentBytes := range []int64{0, 200} { // 200: a segment per batch
		t.Run(fmt.Sprintf("segment=%d", segmentBytes), func(t *testing.T) {
			fsys := vfs.NewMem()
			opts := partition.Options{Replicated: true, SegmentBytes: segmentBytes}
			p := openDir(t, fsys, followerDir, opts)
			// Offsets 0-2, a gap 3-6, 7-8, a gap 9-11, 12.
			_, err := p.AppendReplica(context.Background(), slices.Concat(batch(0, 3), batch(7, 2), batch(12, 1)))
			require.NoError(t, err)
			require.Equal(t, int64(13), p.AcknowledgedOffset())
			for _, step := range []struct{ set, want int64 }{
				{1, 0}, {3, 3}, {4, 3}, {6, 3},
				{7, 3}, // the start of a batch after a gap: offsets 3 to 6 hold no record
				{8, 3}, {9, 9}, {11, 9}, {12, 9}, {13, 13},
			} {
				hw, err := p.SetHighWatermark(step.set)
				require.NoError(t, err)
				require.Equal(t, step.want, hw, "SetHighWatermark(%d)", step.set)
				require.Equal(t, step.want, p.HighWatermark())
				requireReadableBelow(t, p)
				require.False(t, isClosed(p.Readable(hw)))
			}
			require.NoError(t, p.Close())

			// Reopened, and a start offset in a gap.
			p = openDir(t, fsys, followerDir, opts)
			defer p.Close()
			requireHighWatermark(t, p, 0)
			_, err = p.SetHighWatermark(5)
			require.NoError(t, err)
			requireReadableBelow(t, p)
			_, err = p.SetHighWatermark(10)
			require.NoError(t, err)
			require.NoError(t, p.DeleteRecordsBefore(4))
			require.NoError(t, p.Close())
			p = openDir(t, fsys, followerDir, opts)
			require.Equal(t, int64(4), p.StartOffset())
			require.Equal(t, int64(4), p.HighWatermark())
			requireReadableBelow(t, p)
			for _, step := range []struct{ set, want int64 }{{6, 4}, {8, 4}, {10, 9}} {
				hw, err := p.SetHighWatermark(step.set)
				require.NoError(t, err)
				require.Equal(t, step.want, hw, "SetHighWatermark(%d)", step.set)
				requireReadableBelow(t, p)
			}
		})
	}
}
