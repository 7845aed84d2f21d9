package partition_test

// Tests of AppendReplica and FetchReplica (replica_append.go): a follower fed with
// what its leader serves ends with the leader's log, batch for batch, with the same
// offsets and leader epochs, compacted or not, across reopens and crashes; what
// AppendReplica refuses changes nothing.

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// leaderWithEpochs writes a log of several segments and leader epochs to p:
// epoch 0 for the first batches, then 3, then 4, then 9, with batches of 1 to 4
// records.
func leaderWithEpochs(t testing.TB, p *partition.Partition) {
	t.Helper()
	for i, epoch := range []int32{0, 3, 4, 9} {
		if epoch > 0 {
			require.NoError(t, p.AssignEpoch(epoch))
		}
		for j := range 15 {
			appendBatches(t, p, 1+(i+j)%4)
		}
	}
}

// requireSameLog checks that follower holds leader's log: the same batches, byte
// for byte, and the same leader epochs. A follower's leader epoch cache starts each
// epoch at the first batch of it that it copied, which, when the leader's compaction
// removed the first batches of an epoch, lies above where the leader's began (as in
// Kafka): with compacted, the follower's cache is checked against its batches.
func requireSameLog(t testing.TB, leader, follower *partition.Partition, compacted bool) {
	t.Helper()
	require.Equal(t, leader.StartOffset(), follower.StartOffset())
	require.Equal(t, leader.WrittenOffset(), follower.WrittenOffset())
	want, got := fetchAll(t, leader, leader.StartOffset()), fetchAll(t, follower, follower.StartOffset())
	require.Equal(t, batchEpochs(t, want), batchEpochs(t, got))
	require.True(t, bytes.Equal(want, got), "the follower's batches differ from the leader's")
	wantEpochs, err := leader.Epochs()
	require.NoError(t, err)
	if compacted {
		wantEpochs = epochsOf(t, got, follower.StartOffset())
	}
	gotEpochs, err := follower.Epochs()
	require.NoError(t, err)
	require.Equal(t, wantEpochs, gotEpochs)
}

// A follower fed with FetchReplica's output ends byte-identical to its leader: the
// same segment files when it rolls at the same sizes, the same offsets, the same
// epochs, in its cache too, before and after a reopen.
func TestAppendReplicaCopiesLeader(t *testing.T) {
	for _, mode := range []partition.SyncMode{partition.SyncEveryAppend, partition.SyncPeriodic, partition.SyncNone} {
		for _, fetch := range []int{1, 300, 4 << 10} {
			t.Run(fmt.Sprintf("sync=%v/fetch=%d", mode, fetch), func(t *testing.T) {
				fsys := vfs.NewMem()
				opts := partition.Options{SegmentBytes: 1 << 10, IndexIntervalBytes: 100, Sync: partition.SyncPolicy{Mode: mode, EveryRecords: 1 << 20}}
				leader := openDir(t, fsys, leaderDir, opts)
				defer leader.Close()
				leaderWithEpochs(t, leader)
				follower := openDir(t, fsys, followerDir, opts)
				defer follower.Close()

				replicate(t, leader, follower, fetch)
				requireSameLog(t, leader, follower, false)
				require.Equal(t, int32(9), follower.LeaderEpoch())
				require.Equal(t, follower.WrittenOffset(), follower.AcknowledgedOffset())
				require.Equal(t, follower.WrittenOffset(), follower.EndOffset(), "not Replicated: readers see it all")
				require.Equal(t, offsetsRead(t, leader, 0), offsetsRead(t, follower, 0))
				require.Equal(t, logFiles(t, fsys, leaderDir), logFiles(t, fsys, followerDir), "the same segment files")

				require.NoError(t, follower.Close())
				follower = openDir(t, fsys, followerDir, opts)
				requireSameLog(t, leader, follower, false)
				require.Equal(t, int32(9), follower.LeaderEpoch())

				// Going on from where it was.
				require.NoError(t, leader.AssignEpoch(11))
				appendBatches(t, leader, 2, 3)
				replicate(t, leader, follower, fetch)
				requireSameLog(t, leader, follower, false)
			})
		}
	}
}

// compactedLeader writes keyed records under several epochs to a compacted
// partition in small segments, and compacts it: its log has gaps, inside segments and
// at their starts.
func compactedLeader(t testing.TB, p *partition.Partition, clock *testClock) {
	t.Helper()
	next := int64(0)
	for i, epoch := range []int32{0, 2, 5} {
		if epoch > 0 {
			require.NoError(t, p.AssignEpoch(epoch))
		}
		for j := range 40 {
			n := 1 + (i+j)%3
			recs := make([]partition.Record, n)
			for k := range recs {
				// Mostly keys of few values, superseded often; now and then a
				// key of its own, which stays.
				key := fmt.Sprintf("k%d", (next+int64(k))%5)
				if (next+int64(k))%17 == 0 {
					key = fmt.Sprintf("own%d", next+int64(k))
				}
				recs[k] = partition.Record{Key: []byte(key), Value: value(next + int64(k)), Timestamp: clock.Millis(0)}
			}
			base, err := p.Append(context.Background(), recs)
			require.NoError(t, err)
			require.Equal(t, next, base)
			next += int64(n)
		}
	}
	require.NoError(t, p.Roll())
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.True(t, res.Compacted)
	require.Positive(t, res.RecordsRemoved)
}

// requireGaps checks that the batches of b do not follow each other everywhere.
func requireGaps(t testing.TB, b []byte) {
	t.Helper()
	hs := headers(t, b)
	for i := 1; i < len(hs); i++ {
		if hs[i].BaseOffset > hs[i-1].NextOffset() {
			return
		}
	}
	t.Fatal("no gap between batches")
}

// A follower of a compacted leader copies its gaps: it keeps the leader's offsets,
// opens again, and reads the same records, whatever its segment size (its rolls fall
// where they may, before a batch that follows a gap, too).
func TestAppendReplicaCompactedLeader(t *testing.T) {
	for _, followerSegment := range []int64{256, 700, 1 << 10, 1 << 20} {
		for _, fetch := range []int{1, 500, 1 << 20} {
			t.Run(fmt.Sprintf("segment=%d/fetch=%d", followerSegment, fetch), func(t *testing.T) {
				fsys := vfs.NewMem()
				clock := newTestClock()
				leader := openDir(t, fsys, leaderDir, compactOptions(nil, clock))
				defer leader.Close()
				compactedLeader(t, leader, clock)
				all := fetchAll(t, leader, 0)
				requireGaps(t, all)

				opts := partition.Options{SegmentBytes: followerSegment, IndexIntervalBytes: 100}
				follower := openDir(t, fsys, followerDir, opts)
				replicate(t, leader, follower, fetch)
				requireSameLog(t, leader, follower, true)
				want := describe(readRecords(t, leader))
				require.Equal(t, want, describe(readRecords(t, follower)))

				require.NoError(t, follower.Close())
				follower = openDir(t, fsys, followerDir, opts)
				defer follower.Close()
				requireSameLog(t, leader, follower, true)
				require.Equal(t, want, describe(readRecords(t, follower)))

				// Appends after the gaps, on both.
				appendKVs(t, leader, clock.Millis(0), kv{"k1", "after"}, kv{"k2", "after"})
				replicate(t, leader, follower, fetch)
				requireSameLog(t, leader, follower, true)
				require.Equal(t, describe(readRecords(t, leader)), describe(readRecords(t, follower)))
			})
		}
	}
}

// A batch that follows a gap, as the first batch of an empty active segment or after
// batches without gaps, is kept at its offset, and the follower reopens, reads and
// recovers it, under every sync policy.
func TestAppendReplicaGapPlacement(t *testing.T) {
	batch := func(base int64, n int, epoch int32) []byte {
		b, err := segment.AppendBatch(nil, records(base, n, 3), &segment.BatchOptions{PartitionLeaderEpoch: epoch})
		require.NoError(t, err)
		segment.SetBaseOffset(b, base)
		return b
	}
	for _, mode := range []partition.SyncMode{partition.SyncEveryAppend, partition.SyncPeriodic, partition.SyncNone} {
		for _, tc := range []struct {
			name    string
			batches [][]byte // one AppendReplica each
		}{
			{"gap first", [][]byte{batch(10, 2, 0)}},
			{"gap after dense", [][]byte{batch(0, 3, 0), batch(7, 2, 0)}},
			{"gap inside one call", [][]byte{slices.Concat(batch(0, 3, 0), batch(7, 2, 1), batch(20, 1, 1))}},
			{"gaps then dense", [][]byte{batch(5, 1, 0), batch(6, 2, 0), batch(8, 2, 2)}},
		} {
			t.Run(fmt.Sprintf("%v/%s", mode, tc.name), func(t *testing.T) {
				fsys := vfs.NewCrashable()
				opts := partition.Options{Sync: partition.SyncPolicy{Mode: mode, EveryRecords: 1 << 20}}
				p := openDir(t, fsys, followerDir, opts)
				var want []byte
				var offsets []int64
				for _, b := range tc.batches {
					_, err := p.AppendReplica(context.Background(), b)
					require.NoError(t, err)
					want = append(want, b...)
					for _, h := range headers(t, b) {
						offsets = append(offsets, span(h.BaseOffset, h.NextOffset())...)
					}
				}
				check := func(p *partition.Partition) {
					t.Helper()
					require.Equal(t, want, fetchAll(t, p, 0))
					require.Equal(t, want, readBatchesAll(t, p, 0))
					require.Equal(t, offsets, offsetsRead(t, p, 0))
					for _, o := range offsets {
						recs, err := p.Read(o, 1, 0)
						require.NoError(t, err)
						require.Equal(t, o, recs[0].Offset)
					}
				}
				check(p)
				require.NoError(t, p.Sync(context.Background()))
				crashed := fsys.Crash(vfs.DropUnsynced, 1)
				require.NoError(t, p.Close())
				p = openDir(t, fsys, followerDir, opts)
				check(p)
				require.NoError(t, p.Close())
				p = openDir(t, crashed, followerDir, opts)
				check(p)
				require.NoError(t, p.Close())
			})
		}
	}
}

// An empty AppendReplica writes nothing and returns the written offset.
func TestAppendReplicaEmpty(t *testing.T) {
	fsys := vfs.NewMem()
	p := openDir(t, fsys, followerDir, partition.Options{})
	defer p.Close()
	end, err := p.AppendReplica(context.Background(), nil)
	require.NoError(t, err)
	require.Zero(t, end)
	leader := openDir(t, fsys, leaderDir, partition.Options{})
	defer leader.Close()
	appendBatches(t, leader, 3)
	replicate(t, leader, p, 1<<20)
	files := logFiles(t, fsys, followerDir)
	end, err = p.AppendReplica(context.Background(), []byte{})
	require.NoError(t, err)
	require.Equal(t, int64(3), end)
	require.Equal(t, files, logFiles(t, fsys, followerDir))
	require.Equal(t, int64(3), p.WrittenOffset())
}

// AppendReplica refuses input that is not a continuation of the follower's log
// (ErrInvalidArgument) and writes none of it, not even the valid batches before the
// bad one.
func TestAppendReplicaRefuses(t *testing.T) {
	fsys := vfs.NewMem()
	leader := openDir(t, fsys, leaderDir, partition.Options{})
	defer leader.Close()
	appendBatches(t, leader, 2, 2)
	require.NoError(t, leader.AssignEpoch(4))
	appendBatches(t, leader, 2, 2, 2)
	all := fetchAll(t, leader, 0)
	hs := headers(t, all)
	at := func(i int) []byte { // the bytes of batch i
		pos := 0
		for _, h := range hs[:i] {
			pos += h.Size()
		}
		return slices.Clone(all[pos : pos+hs[i].Size()])
	}

	opts := partition.Options{MaxBatchBytes: 4 << 10}
	p := openDir(t, fsys, followerDir, opts)
	defer p.Close()
	_, err := p.AppendReplica(context.Background(), slices.Concat(at(0), at(1), at(2)))
	require.NoError(t, err)

	damaged := at(3)
	damaged[len(damaged)-1] ^= 1
	lowEpoch := at(3)
	segment.SetPartitionLeaderEpoch(lowEpoch, 2) // below 4, the latest known
	// A follower copies batches above its MaxBatchBytes (its leader may have stored
	// them under a higher limit, as in Kafka), up to the largest it may hold: at
	// least segment.DefaultMaxBatchBytes.
	big, err := segment.AppendBatch(nil, []partition.Record{{Value: bytes.Repeat([]byte("x"), segment.DefaultMaxBatchBytes), Timestamp: 1}}, &segment.BatchOptions{PartitionLeaderEpoch: 4})
	require.NoError(t, err)
	segment.SetBaseOffset(big, 6)
	tooFar := at(3)
	segment.SetBaseOffset(tooFar, 6+1<<31) // its last offset 2^31+1 above the next
	outOfOrder := slices.Concat(at(4), at(3))
	overlapping := at(3)
	segment.SetBaseOffset(overlapping, 5) // inside batch 4-5, written

	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"below the written offset", at(1)},
		{"overlapping the written offset", overlapping},
		{"a bad CRC", damaged},
		{"a bad CRC after a good batch", slices.Concat(at(3), damaged)},
		{"an epoch below the latest", lowEpoch},
		{"a lower epoch after a good batch", slices.Concat(at(3), lowEpoch)},
		{"over the largest batch it may hold", big},
		{"batches out of order", outOfOrder},
		{"a gap wider than a segment spans", tooFar},
		{"a torn batch", at(3)[:40]},
		{"a batch and a torn one", slices.Concat(at(3), at(4)[:70])},
		{"bytes that are no batch", bytes.Repeat([]byte{7}, 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := logFiles(t, fsys, followerDir)
			epochsBefore, err := p.Epochs()
			require.NoError(t, err)
			_, err = p.AppendReplica(context.Background(), tc.input)
			require.ErrorIs(t, err, errs.ErrInvalidArgument)
			require.NoError(t, p.Err(), "bad input does not fail the partition")
			require.Equal(t, int64(6), p.WrittenOffset())
			require.Equal(t, files, logFiles(t, fsys, followerDir), "nothing written")
			epochsAfter, err := p.Epochs()
			require.NoError(t, err)
			require.Equal(t, epochsBefore, epochsAfter)
		})
	}
	// The rest still follows.
	replicate(t, leader, p, 1<<20)
	requireSameLog(t, leader, p, false)
}

// The epochs of replicated batches land in the follower's leader epoch cache, and
// in its checkpoint, before the batches: they survive a reopen.
func TestAppendReplicaRecordsEpochs(t *testing.T) {
	fsys := vfs.NewMem()
	leader := openDir(t, fsys, leaderDir, partition.Options{})
	defer leader.Close()
	follower := openDir(t, fsys, followerDir, partition.Options{})
	appendBatches(t, leader, 2, 2)
	replicate(t, leader, follower, 1<<20)
	got, err := follower.Epochs()
	require.NoError(t, err)
	require.Equal(t, []partition.EpochEntry{{Epoch: 0, StartOffset: 0}}, got)

	require.NoError(t, leader.AssignEpoch(2))
	appendBatches(t, leader, 1)
	require.NoError(t, leader.AssignEpoch(3)) // an epoch that writes nothing
	require.NoError(t, leader.AssignEpoch(7))
	appendBatches(t, leader, 3, 1)
	replicate(t, leader, follower, 1<<20)
	want := []partition.EpochEntry{{Epoch: 0, StartOffset: 0}, {Epoch: 2, StartOffset: 4}, {Epoch: 7, StartOffset: 5}}
	got, err = follower.Epochs()
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, int32(7), follower.LeaderEpoch())
	require.Equal(t, "0\n3\n0 0\n2 4\n7 5\n", string(diskRead(t, fsys, followerDir+"/"+partition.LeaderEpochCheckpointFile)))
	e, end, err := follower.EndOffsetForEpoch(3)
	require.NoError(t, err)
	require.Equal(t, int32(2), e)
	require.Equal(t, int64(5), end)

	require.NoError(t, follower.Close())
	follower = openDir(t, fsys, followerDir, partition.Options{})
	defer follower.Close()
	got, err = follower.Epochs()
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// FetchReplica serves a follower what readers cannot see yet: up to the written
// offset, above the high watermark; beyond it, ErrOffsetOutOfRange.
func TestFetchReplicaAboveHighWatermark(t *testing.T) {
	gate := newSyncGate()
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Replicated: true, SegmentBytes: 1 << 10, Hooks: partition.Hooks{OnFsync: gate.hook}})
	defer p.Close()
	for range 20 {
		appendBatches(t, p, 3)
	}
	_, err := p.SetHighWatermark(30)
	require.NoError(t, err)
	gate.arm()
	_, err = p.Write(context.Background(), records(60, 2, 10)) // written, not acknowledged
	require.NoError(t, err)
	gate.waitEntered()
	require.Equal(t, int64(62), p.WrittenOffset())
	require.Equal(t, int64(60), p.AcknowledgedOffset())

	all := fetchAll(t, p, 0)
	hs := headers(t, all)
	require.Equal(t, int64(62), hs[len(hs)-1].NextOffset())
	require.Equal(t, readBatchesAll(t, p, 0), all[:len(readBatchesAll(t, p, 0))], "readers see a prefix of it")
	for _, offset := range []int64{30, 31, 45, 59, 60, 61} {
		b, err := p.FetchReplica(nil, offset, 1)
		require.NoError(t, err, "offset %d", offset)
		h := headers(t, b)[0]
		require.LessOrEqual(t, h.BaseOffset, offset)
		require.Greater(t, h.NextOffset(), offset)
	}
	b, err := p.FetchReplica([]byte("keep"), 62, 1<<20)
	require.NoError(t, err)
	require.Equal(t, "keep", string(b), "nothing at the written offset")
	_, err = p.FetchReplica(nil, 63, 1<<20)
	require.ErrorIs(t, err, errs.ErrOffsetOutOfRange)
	_, err = p.FetchReplica(nil, -1, 1<<20)
	require.ErrorIs(t, err, errs.ErrOffsetOutOfRange)
	gate.open()

	require.NoError(t, p.DeleteRecordsBefore(20))
	_, err = p.FetchReplica(nil, 19, 1<<20)
	require.ErrorIs(t, err, errs.ErrOffsetOutOfRange)
	require.NoError(t, p.Close())
	_, err = p.FetchReplica(nil, 20, 1<<20)
	require.ErrorIs(t, err, errs.ErrClosed)
}

// A Replicated follower shows what it replicated once its owner moves the high
// watermark, as far as it replicated.
func TestReplicatedFollower(t *testing.T) {
	fsys := vfs.NewMem()
	leader := openDir(t, fsys, leaderDir, partition.Options{Replicated: true, SegmentBytes: 1 << 10})
	defer leader.Close()
	follower := openDir(t, fsys, followerDir, partition.Options{Replicated: true, SegmentBytes: 1 << 10})
	defer follower.Close()
	leaderWithEpochs(t, leader)
	replicate(t, leader, follower, 500)
	requireHighWatermark(t, follower, 0)
	hw, err := leader.SetHighWatermark(follower.AcknowledgedOffset())
	require.NoError(t, err)
	got, err := follower.SetHighWatermark(hw)
	require.NoError(t, err)
	require.Equal(t, hw, got)
	requireHighWatermark(t, follower, hw)
	require.Equal(t, offsetsRead(t, leader, 0), offsetsRead(t, follower, 0))
}

// What AppendReplica acknowledged under SyncEveryAppend survives a crash, with its
// epochs; under the lazier policies, a prefix of it survives, and the epoch cache
// never names an epoch the log lost.
func TestAppendReplicaCrash(t *testing.T) {
	for _, mode := range []partition.SyncMode{partition.SyncEveryAppend, partition.SyncNone} {
		for _, crash := range crashModes {
			for seed := range int64(4) {
				t.Run(fmt.Sprintf("%v/%v/seed=%d", mode, crash, seed), func(t *testing.T) {
					leaderFS := vfs.NewMem()
					clock := newTestClock()
					leader := openDir(t, leaderFS, leaderDir, compactOptions(nil, clock))
					defer leader.Close()
					compactedLeader(t, leader, clock)
					all := fetchAll(t, leader, 0)

					fsys := vfs.NewCrashable()
					opts := partition.Options{SegmentBytes: 700, Sync: partition.SyncPolicy{Mode: mode}}
					follower := openDir(t, fsys, followerDir, opts)
					defer follower.Close()
					calls := 0
					var acked int64
					stopAt := 3 + int(seed)*7
					for calls < stopAt {
						b, err := leader.FetchReplica(nil, follower.WrittenOffset(), 300)
						require.NoError(t, err)
						if len(b) == 0 {
							break
						}
						acked, err = follower.AppendReplica(context.Background(), b)
						require.NoError(t, err)
						calls++
					}
					crashed := fsys.Crash(crash, seed)
					p := openDir(t, crashed, followerDir, opts)
					defer p.Close()
					got := fetchAll(t, p, 0)
					require.True(t, bytes.HasPrefix(all, got), "what survives is a prefix of the leader's log")
					if mode == partition.SyncEveryAppend {
						require.GreaterOrEqual(t, p.WrittenOffset(), acked, "acknowledged, lost")
					}
					// The epochs known are those of the batches that survived.
					gotEpochs, err := p.Epochs()
					require.NoError(t, err)
					require.Equal(t, epochsOf(t, got, 0), gotEpochs)
					// And it follows on.
					replicate(t, leader, p, 1<<20)
					requireSameLog(t, leader, p, true)
				})
			}
		}
	}
}

// epochsOf returns the leader epoch cache that the batches of b make: each epoch
// above the ones before starts at its first batch (at the log start offset start
// for the first, if its batch straddles it).
func epochsOf(t testing.TB, b []byte, start int64) []partition.EpochEntry {
	t.Helper()
	var out []partition.EpochEntry
	for _, h := range headers(t, b) {
		if n := len(out); n == 0 || out[n-1].Epoch < h.PartitionLeaderEpoch {
			out = append(out, partition.EpochEntry{Epoch: h.PartitionLeaderEpoch, StartOffset: max(h.BaseOffset, start)})
		}
	}
	return out
}
