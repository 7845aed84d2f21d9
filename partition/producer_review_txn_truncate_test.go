package partition_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestIdempotentTruncatedTransactionsModel: a follower copies producers' plain and
// transactional batches and COMMIT markers, rolls, reopens and truncates at random.
// After each truncation its producers' open transactions must be those of its log:
// a fresh partition that copies the whole log from it must agree, for every
// producer, on whether a plain batch (at a new epoch, so that only the transaction
// can refuse it) is ErrInvalidTxnState.
func TestIdempotentTruncatedTransactionsModel(t *testing.T) {
	seeds, ops := modelSeeds(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runTruncatedTransactionsModel(t, seed, ops)
		})
	}
}

func runTruncatedTransactionsModel(t *testing.T, seed int64, ops int) {
	rng := rand.New(rand.NewPCG(uint64(seed), 142))
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: int64(300 + rng.IntN(600))}
	p := openDir(t, fsys, followerDir, opts)
	defer func() { p.Close() }()
	var history []string
	open := map[int64]bool{}
	sequence := map[int64]int32{}
	for range ops {
		id := int64(1 + rng.IntN(3))
		switch k := rng.IntN(100); {
		case k < 35:
			copyTransactionalBatch(t, p, id, 0, sequence[id], 1)
			sequence[id]++
			open[id] = true
			history = append(history, fmt.Sprintf("txn batch p%d", id))
		case k < 55 && !open[id]:
			batch, err := segment.AppendBatch(nil, records(p.WrittenOffset(), 1, 1<<30), &segment.BatchOptions{
				Idempotent: true, ProducerID: id, BaseSequence: sequence[id]})
			require.NoError(t, err)
			segment.SetBaseOffset(batch, p.WrittenOffset())
			_, err = p.AppendReplica(context.Background(), batch)
			require.NoError(t, err)
			sequence[id]++
			history = append(history, fmt.Sprintf("plain batch p%d", id))
		case k < 75 && open[id]:
			copyCommitMarker(t, p, id, 0)
			open[id] = false
			history = append(history, fmt.Sprintf("commit p%d", id))
		case k < 80:
			require.NoError(t, p.Roll())
			history = append(history, "Roll")
		case k < 85:
			require.NoError(t, p.Close())
			p = openDir(t, fsys, followerDir, opts)
			history = append(history, "reopen")
		case k < 100:
			end := p.WrittenOffset()
			cut := end - rng.Int64N(min(end, 8)+1)
			got, err := p.TruncateTo(cut)
			require.NoError(t, err)
			history = append(history, fmt.Sprintf("TruncateTo(%d) = %d", cut, got))
			compareTransactions(t, seed, history, p)
		}
	}
}

// compareTransactions copies p's log into a fresh partition and checks that both
// refuse a plain batch of the same producers.
func compareTransactions(t *testing.T, seed int64, history []string, p *partition.Partition) {
	t.Helper()
	fresh := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer fresh.Close()
	replicate(t, p, fresh, 1<<20)
	for id := int64(1); id <= 3; id++ {
		_, err := appendProduced(fresh, id, 1, 0, 1)
		want := errors.Is(err, partition.ErrInvalidTxnState)
		end := p.WrittenOffset()
		_, err = appendProduced(p, id, 1, 0, 1)
		got := errors.Is(err, partition.ErrInvalidTxnState)
		if err == nil {
			_, terr := p.TruncateTo(end) // the probe is not part of the history
			require.NoError(t, terr)
		}
		if got != want {
			t.Fatalf("seed %d: producer %d: after the truncation its transaction is open: %v; in the log: %v\nreplay: STRATA_SEED=%d go test ./partition/ -run TestIdempotentTruncatedTransactionsModel\nlast operations: %q",
				seed, id, got, want, seed, history[max(0, len(history)-15):])
		}
	}
}
