package partition_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// The idempotent fault sweep: a life of an idempotent producer (appends, rolls,
// retention, compaction, close, reopen) on a filesystem that fails its n-th call with
// EIO, for every n. Whatever fails, a reopen on the same files (a restart) and on
// their durable state (power loss) answers a retry of the last acknowledged batch as
// a duplicate at its original offset, and takes the producer's next sequence.

// idempotentSweepLife runs the life on fsys, stopping at the first error, and returns
// the last acknowledged batch (n 0: none) and the next sequence after it.
func idempotentSweepLife(fsys vfs.FS) (last producedBatch, complete bool) {
	opts := sweepOptions(fsys)
	ctx := context.Background()
	now := opts.Now().UnixMilli()
	sequence := int32(0)
	life := func(p *partition.Partition, round int) error {
		for i := range 12 {
			records := make([]partition.Record, 1+i%3)
			for j := range records {
				records[j] = partition.Record{Key: []byte(fmt.Sprintf("k%d", (round*12+i+j)%5)), Value: []byte(fmt.Sprintf("r%d-%d-%d", round, i, j)), Timestamp: now}
			}
			base, err := p.AppendWith(ctx, records, &partition.AppendOptions{Producer: &partition.Producer{ID: 42, Epoch: 1, BaseSequence: sequence}})
			if err != nil {
				return err
			}
			last = producedBatch{sequence: sequence, n: len(records), base: base}
			sequence += int32(len(records))
			if i%5 == 4 {
				if err := p.Roll(); err != nil {
					return err
				}
			}
		}
		if _, err := p.ApplyRetention(); err != nil {
			return err
		}
		_, err := p.ForceCompact(ctx)
		return err
	}
	for round := range 2 {
		p, err := partition.Open("/data/orders-0", &opts)
		if err != nil {
			return last, false
		}
		err = life(p, round)
		if closeErr := p.Close(); err != nil || closeErr != nil {
			return last, false
		}
	}
	return last, true
}

// requireRetryIsDuplicate opens the partition on fsys and retries last.
func requireRetryIsDuplicate(t *testing.T, fsys vfs.FS, last producedBatch, what string) {
	t.Helper()
	opts := sweepOptions(fsys)
	p, err := partition.Open("/data/orders-0", &opts)
	require.NoError(t, err, "%s: reopen", what)
	defer p.Close()
	records := make([]partition.Record, last.n)
	for j := range records {
		records[j] = partition.Record{Key: []byte("retry"), Value: []byte("retry"), Timestamp: opts.Now().UnixMilli()}
	}
	producer := &partition.Producer{ID: 42, Epoch: 1, BaseSequence: last.sequence}
	base, err := p.AppendWith(context.Background(), records, &partition.AppendOptions{Producer: producer})
	require.True(t, errors.Is(err, partition.ErrDuplicateSequence), "%s: retry of the last acknowledged batch (sequence %d at %d): %v (at %d)", what, last.sequence, last.base, err, base)
	require.Equal(t, last.base, base, what)
}

func TestIdempotentFaultSweepEveryCall(t *testing.T) {
	var total atomic.Int64
	_, complete := idempotentSweepLife(vfs.NewFaulty(vfs.NewCrashable(), failCall(0, &total)))
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
		var last producedBatch
		require.NotPanics(t, func() {
			last, _ = idempotentSweepLife(vfs.NewFaulty(mem, failCall(n, &count)))
		}, "failing call %d", n)
		if last.n == 0 {
			continue
		}
		requireRetryIsDuplicate(t, mem.Crash(vfs.DropUnsynced, n), last, fmt.Sprintf("call %d failed, power lost", n))
		requireRetryIsDuplicate(t, mem, last, fmt.Sprintf("call %d failed, restart", n))
	}
}
