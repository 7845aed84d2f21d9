package group

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// After a crash (power loss, every CrashMode, many seeds) at a random step of a
// history of plain commits, transactional commits of two producers and their
// markers, the reopened store has every acknowledged commit, pending offsets
// pending, as a MemoryOffsetStore given the same history has them: the partition
// fsyncs before acknowledging, and replay rebuilds transactions from the log.
func TestTxnOffsetsCrash(t *testing.T) {
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix, vfs.TearGarbage, vfs.TearZeros} {
		for _, seed := range testSeeds(t, 20, 300) {
			t.Run(fmt.Sprintf("%v/seed=%d", mode, seed), func(t *testing.T) {
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(seed, uint64(mode)))
				fsys := vfs.NewCrashable()
				s, err := OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: fsys})
				require.NoError(t, err)
				defer s.Close()
				model := NewMemoryOffsetStore()
				var epochs [2]int16
				for i := range rng.IntN(40) {
					group, p, id := []string{"a", "b"}[rng.IntN(2)], tp("orders", rng.Int32N(3)), int64(rng.IntN(2))
					o := committed(int64(i), "", int64(i))
					switch rng.IntN(4) {
					case 0:
						w := Write{Commits: map[TopicPartition]CommittedOffset{p: o}}
						require.NoError(t, s.Write(ctx, group, w))
						require.NoError(t, model.Write(ctx, group, w))
					case 1, 2:
						commits := map[TopicPartition]CommittedOffset{p: o}
						require.NoError(t, s.WriteTxn(ctx, group, id, epochs[id], commits))
						require.NoError(t, model.WriteTxn(ctx, group, id, epochs[id], commits))
					case 3:
						m := txnMarker(id, epochs[id]+1, rng.IntN(2) == 0)
						require.NoError(t, s.WriteTxnMarker(ctx, m))
						require.NoError(t, model.WriteTxnMarker(ctx, m))
						epochs[id]++
					}
				}
				after := fsys.Crash(mode, int64(seed))
				s2, err := OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: after})
				require.NoError(t, err)
				defer s2.Close()
				requireSameTables(t, model, s2)
			})
		}
	}
}
