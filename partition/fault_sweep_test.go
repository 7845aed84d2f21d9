package partition_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// The fault sweep: a partition's whole life (open, appends, rolls, retention,
// compaction, close, reopen) runs on a filesystem that fails its n-th call with EIO,
// for every n up to the number of calls the life makes. Whatever fails, nothing panics,
// and a reopen on the same files (a process restart) and on their durable state (power
// loss) finds every acknowledged record that retention and compaction did not remove
// on purpose, with the same offset and value.

// sweepOptions: small segments so that the life rolls, compacts and applies retention.
func sweepOptions(fsys vfs.FS) partition.Options {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return partition.Options{
		FS:                 fsys,
		SegmentBytes:       700,
		IndexIntervalBytes: 100,
		RetentionBytes:     1500,
		Compact:            true,
		DeleteRetention:    time.Hour,
		Now:                func() time.Time { return now },
	}
}

// sweepLife runs a partition's life on fsys, stopping at the first error. It returns
// the acknowledged records by offset, and whether it got to the end.
func sweepLife(fsys vfs.FS) (acked map[int64]partition.Record, complete bool) {
	acked = map[int64]partition.Record{}
	opts := sweepOptions(fsys)
	ctx := context.Background()
	life := func(p *partition.Partition, round int) error {
		for i := range 12 {
			records := make([]partition.Record, 1+i%3)
			for j := range records {
				records[j] = partition.Record{
					Key:       []byte(fmt.Sprintf("k%d", (round*12+i+j)%9)),
					Value:     []byte(fmt.Sprintf("r%d-%d-%d-%s", round, i, j, strings.Repeat("x", i*5))),
					Timestamp: int64(1000 + i),
				}
			}
			first, err := p.Append(ctx, records)
			if err != nil {
				return err
			}
			for j, r := range records {
				acked[first+int64(j)] = r
			}
			if i%5 == 4 {
				if err := p.Roll(); err != nil {
					return err
				}
			}
		}
		if _, err := p.ApplyRetention(); err != nil {
			return err
		}
		if _, err := p.ForceCompact(ctx); err != nil {
			return err
		}
		return nil
	}
	for round := range 2 {
		p, err := partition.Open("/data/orders-0", &opts)
		if err != nil {
			return acked, false
		}
		err = life(p, round)
		if closeErr := p.Close(); err != nil || closeErr != nil {
			return acked, false
		}
	}
	return acked, true
}

// failCall is an Injector that fails the n-th call of any kind with EIO.
func failCall(n int64, calls *atomic.Int64) vfs.Injector {
	return func(op vfs.Op, path string) *vfs.Fault {
		if calls.Add(1) == n {
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	}
}

// requireAckedSurvive opens the partition on fsys and checks every acknowledged
// record at or above the start offset that is its key's latest (compaction may remove
// the others): each is there with its value. Every record read is one that was
// appended at that offset, acknowledged or not.
func requireAckedSurvive(t *testing.T, fsys vfs.FS, acked map[int64]partition.Record, what string) {
	t.Helper()
	opts := sweepOptions(fsys)
	p, err := partition.Open("/data/orders-0", &opts)
	require.NoError(t, err, "%s: reopen", what)
	defer p.Close()
	got := map[int64]string{}
	r := p.NewReader(p.StartOffset(), 0)
	for {
		rec, err := r.TryNext()
		require.NoError(t, err, what)
		if rec == nil {
			break
		}
		got[rec.Offset] = string(rec.Value)
		if want, ok := acked[rec.Offset]; ok {
			require.Equal(t, string(want.Value), string(rec.Value), "%s: offset %d", what, rec.Offset)
		}
	}
	latest := map[string]int64{}
	for offset, rec := range acked {
		if offset >= latest[string(rec.Key)] {
			latest[string(rec.Key)] = offset
		}
	}
	for _, offset := range latest {
		if offset < p.StartOffset() {
			continue
		}
		require.Contains(t, got, offset, "%s: acknowledged offset %d (start %d, end %d) lost", what, offset, p.StartOffset(), p.EndOffset())
	}
}

func TestFaultSweepEveryCall(t *testing.T) {
	var total atomic.Int64
	_, complete := sweepLife(vfs.NewFaulty(vfs.NewCrashable(), failCall(0, &total)))
	require.True(t, complete, "the life must complete without faults")
	calls := total.Load()
	t.Logf("a life makes %d filesystem calls", calls)
	step := int64(1)
	if testing.Short() {
		step = 7
	}
	for n := int64(1); n <= calls; n += step {
		mem := vfs.NewCrashable()
		var count atomic.Int64
		var acked map[int64]partition.Record
		require.NotPanics(t, func() {
			acked, _ = sweepLife(vfs.NewFaulty(mem, failCall(n, &count)))
		}, "failing call %d", n)
		requireAckedSurvive(t, mem.Crash(vfs.DropUnsynced, n), acked, fmt.Sprintf("call %d failed, power lost", n))
		requireAckedSurvive(t, mem, acked, fmt.Sprintf("call %d failed, restart", n))
	}
}

// The sweep's life must exercise what it claims to: retention moves the start offset
// and compaction removes superseded records.
func TestFaultSweepLifeRetainsAndCompacts(t *testing.T) {
	mem := vfs.NewCrashable()
	acked, complete := sweepLife(mem)
	require.True(t, complete)
	opts := sweepOptions(mem)
	p, err := partition.Open("/data/orders-0", &opts)
	require.NoError(t, err)
	defer p.Close()
	require.Positive(t, p.StartOffset(), "retention removed nothing")
	records, err := p.Read(p.StartOffset(), 0, 0)
	require.NoError(t, err)
	require.Less(t, int64(len(records)), p.EndOffset()-p.StartOffset(), "compaction removed nothing")
	require.Equal(t, int64(len(acked)), p.EndOffset())
}

// TestFaultSweepDuringRecovery fails each call of an Open that recovers after power
// loss (verifying segments, rebuilding indexes, truncating a torn tail, writing the
// checkpoint): an error or success, never a panic, and an Open without faults then
// finds every acknowledged record.
func TestFaultSweepDuringRecovery(t *testing.T) {
	mem := vfs.NewCrashable()
	acked, complete := sweepLife(mem)
	require.True(t, complete)
	opts := sweepOptions(mem)
	p, err := partition.Open("/data/orders-0", &opts)
	require.NoError(t, err)
	for i := range 5 {
		first, err := p.Append(context.Background(), []partition.Record{{Key: []byte("tail"), Value: []byte(fmt.Sprint(i)), Timestamp: 2000}})
		require.NoError(t, err)
		acked[first] = partition.Record{Key: []byte("tail"), Value: []byte(fmt.Sprint(i))}
	}
	// No Close: the image is taken while the partition is open, as a crash finds it.
	crashed := mem.Crash(vfs.TearGarbage, 1)
	var total atomic.Int64
	recoverOpts := sweepOptions(vfs.NewFaulty(crashed.Crash(vfs.DropUnsynced, 0), failCall(0, &total)))
	q, err := partition.Open("/data/orders-0", &recoverOpts)
	require.NoError(t, err)
	require.NoError(t, q.Close())
	require.NoError(t, p.Close())
	for n := int64(1); n <= total.Load(); n++ {
		image := crashed.Crash(vfs.DropUnsynced, 0) // a fresh copy of the crashed state
		var count atomic.Int64
		faulty := sweepOptions(vfs.NewFaulty(image, failCall(n, &count)))
		require.NotPanics(t, func() {
			if q, err := partition.Open("/data/orders-0", &faulty); err == nil {
				q.Close()
			}
		}, "failing call %d of recovery", n)
		requireAckedSurvive(t, image, acked, fmt.Sprintf("call %d of recovery failed", n))
	}
}
