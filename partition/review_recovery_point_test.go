package partition_test

// Review of Options.RecoveryPoint and DurableOffset: whatever DurableOffset said at
// any moment before a crash, under any sync policy and whatever the partition was
// doing (appends, AcksLeader writes, Sync, rolls, retention, DeleteRecordsBefore,
// compaction, truncation, Close), must be a point the crashed log reaches: handed
// back as Options.RecoveryPoint, it must open, and reach it.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

func TestReviewDurableOffsetSurvivesCrash(t *testing.T) {
	policies := map[string]partition.SyncPolicy{
		"every-append": {Mode: partition.SyncEveryAppend},
		"periodic":     {Mode: partition.SyncPeriodic, EveryRecords: 5},
		"none":         {Mode: partition.SyncNone},
	}
	n := seedCount(60, 600)
	for name, policy := range policies {
		for _, mode := range crashModes {
			t.Run(fmt.Sprintf("%s/%v", name, mode), func(t *testing.T) {
				for i := range n {
					seed := int64(mode+1)*1_000_000 + int64(i)
					reviewDurableCrash(t, policy, mode, seed)
					if t.Failed() {
						return
					}
				}
			})
		}
	}
}

func reviewDurableCrash(t *testing.T, policy partition.SyncPolicy, mode vfs.CrashMode, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	fsys := vfs.NewCrashable()
	gate := newOpGate()
	opts := partition.Options{SegmentBytes: 2 << 10, IndexIntervalBytes: 512, Sync: policy, Compact: rng.IntN(2) == 0,
		MinCleanableDirtyRatio: 0.01, RetentionBytes: 12 << 10}
	p, err := openAt(vfs.NewFaulty(fsys, gate.inject), opts)
	require.NoError(t, err)

	// The sampler reads DurableOffset as the store's goroutine does.
	// observed is the point the store would hold, with its segment mark; recording
	// guards it and is held by a sample, and by a truncation from lowering to done.
	var observed struct {
		sync.Mutex // held only to read or write the fields
		offset     int64
		mark       partition.SegmentMark
		marked     bool
	}
	var recording sync.Mutex
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		for {
			select {
			case <-stopSampling:
				return
			default:
			}
			recording.Lock()
			offset, mark, marked := p.DurablePoint()
			observed.Lock()
			if offset >= observed.offset {
				observed.offset, observed.mark, observed.marked = offset, mark, marked
			}
			observed.Unlock()
			recording.Unlock()
			time.Sleep(time.Microsecond)
		}
	}()

	ctx := context.Background()
	gate.arm(1 + rng.Int64N(500))
	var trace []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := 0; seq < 400; seq++ {
			var err error
			switch op := rng.IntN(30); {
			case op == 29 && rng.IntN(8) != 0:
				continue
			case op < 18:
				_, err = p.Append(ctx, randomBatch(rng, 0, seq))
				trace = append(trace, "append")
			case op < 22:
				_, err = p.Write(ctx, randomBatch(rng, 0, seq))
				trace = append(trace, "write")
			case op < 24:
				err = p.Sync(ctx)
				trace = append(trace, "sync")
			case op < 25:
				err = p.Roll()
				trace = append(trace, "roll")
			case op < 26:
				_, err = p.ApplyRetention()
				trace = append(trace, "retention")
			case op < 27:
				start, end := p.StartOffset(), p.EndOffset()
				if end > start {
					err = p.DeleteRecordsBefore(start + rng.Int64N(end-start+1))
					trace = append(trace, "delete records")
				}
			case op < 28:
				if opts.Compact {
					_, err = p.Compact(ctx)
					trace = append(trace, "compact")
				}
			case op < 29:
				start, written := p.StartOffset(), p.WrittenOffset()
				if written > start {
					// As a store does: the recorded point comes down to the start
					// offset first, and no sample is taken until it returns.
					recording.Lock()
					observed.Lock()
					if start < observed.offset {
						observed.offset, observed.marked = start, false // as a store lowers it
					}
					observed.Unlock()
					_, err = p.TruncateTo(start + rng.Int64N(written-start+1))
					recording.Unlock()
					trace = append(trace, "truncate")
				}
			default:
				err = p.Close()
				trace = append(trace, "close")
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var crashed *vfs.CrashableFS
	var point int64
	var mark partition.SegmentMark
	var marked bool
	crashOp := "none: after the last operation"
	select {
	case op := <-gate.stopped:
		observed.Lock()
		point, mark, marked = observed.offset, observed.mark, observed.marked
		observed.Unlock()
		crashed = fsys.Crash(mode, seed)
		crashOp = op
		close(stopSampling)
		close(gate.release)
	case <-done:
		gate.disarm()
		observed.Lock()
		point, mark, marked = observed.offset, observed.mark, observed.marked
		observed.Unlock()
		crashed = fsys.Crash(mode, seed)
		close(stopSampling)
	}
	<-done
	sampling.Wait()
	_ = p.Close()
	what := fmt.Sprintf("seed %d, %v, %+v, point %d, crash before %s: %v", seed, mode, opts.Sync, point, crashOp, trace)
	if seed%1_000_000 < 3 {
		t.Logf("seed %d: point %d, %d operations, crash before %s", seed, point, len(trace), crashOp)
	}
	o := opts
	o.RecoveryPoint = point
	if marked {
		o.RecoveryPointSegment = &mark
	}
	// Scrub and Repair, given the same point and mark, agree with Open: the mark is
	// no problem, and a repair keeps every offset below the point.
	image := crashed.Crash(vfs.DropUnsynced, 0) // a copy
	o.FS = image
	scrub, err := partition.Scrub(partitionDir, &o)
	require.NoError(t, err, what)
	for _, problem := range scrub.Problems {
		require.NotContains(t, problem.Error(), "does not begin with the batch", what)
	}
	repaired, err := partition.Repair(partitionDir, &o, &partition.RepairOptions{KeepDir: "/keep"})
	require.NoError(t, err, what)
	for _, lost := range repaired.Lost {
		require.GreaterOrEqual(t, lost.From, point, "%v: %s", repaired, what)
	}
	o.FS = nil
	q, err := openAt(crashed, o)
	require.NoError(t, err, what)
	require.GreaterOrEqual(t, q.EndOffset(), point, what)
	// Crashed again right after the recovery, with the same (now older) point and
	// mark: it opens again.
	again := crashed.Crash(mode, seed+1)
	require.NoError(t, q.Close())
	q, err = openAt(again, o)
	require.NoError(t, err, what)
	defer q.Close()
	require.GreaterOrEqual(t, q.EndOffset(), point, what)
}

// TestReviewDurableOffsetAfterFailedFsync: after a failed fsync (whose pages the
// kernel may have dropped, fsyncgate), nothing, not even a later fsync that
// succeeds or Close, moves DurableOffset past what was fsynced before it.
func TestReviewDurableOffsetAfterFailedFsync(t *testing.T) {
	for name, policy := range map[string]partition.SyncPolicy{
		"every-append": {Mode: partition.SyncEveryAppend},
		"none":         {Mode: partition.SyncNone},
	} {
		var faults vfs.Switch
		p, err := openAt(vfs.NewFaulty(vfs.NewCrashable(), faults.Inject), partition.Options{Sync: policy})
		require.NoError(t, err, name)
		ctx := context.Background()
		_, err = p.Append(ctx, randomBatch(rand.New(rand.NewPCG(1, 2)), 0, 0))
		require.NoError(t, err, name)
		require.NoError(t, p.Sync(ctx), name)
		durable := p.DurableOffset()
		faults.Set(vfs.FailOp(vfs.OpSync, syscall.EIO))
		_, _ = p.Write(ctx, randomBatch(rand.New(rand.NewPCG(1, 3)), 0, 1))
		_, _ = p.Append(ctx, randomBatch(rand.New(rand.NewPCG(1, 4)), 0, 2))
		require.Error(t, p.Sync(ctx), name)
		faults.Set(nil)
		_ = p.Sync(ctx)
		_ = p.Roll()
		require.Equal(t, durable, p.DurableOffset(), name)
		_ = p.Close()
		require.Equal(t, durable, p.DurableOffset(), "%s: after Close", name)
	}
}
