package group

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// FuzzTxnReplayOffsets drives a PartitionOffsetStore and a MemoryOffsetStore with
// the same sequence of plain commits, deletions, transactional commits of three
// producers, COMMIT and ABORT markers (repeated ones included) and undecodable
// records, plain and transactional, and restarts, all read from the fuzzer's bytes. After every
// step the two agree on every group's committed and pending offsets, and so does
// the store reopened from its log: a restart in any state gives the same table,
// and replay never panics nor fails.
func FuzzTxnReplayOffsets(f *testing.F) {
	f.Add([]byte{1, 0, 0, 5, 2, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 1, 9, 0, 1, 1, 3, 2, 0, 0, 3, 0, 0})
	f.Add([]byte{1, 1, 2, 4, 5, 1, 7, 9, 2, 1, 1, 4, 2, 0, 1, 1, 2, 2})
	f.Add([]byte{6, 0, 3, 1, 2, 3, 1, 2, 2, 2, 1, 1, 0, 0, 7, 2, 1, 0})
	f.Fuzz(func(t *testing.T, program []byte) {
		ctx := context.Background()
		fsys := vfs.NewMem()
		store, err := OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: fsys})
		require.NoError(t, err)
		defer func() { store.Close() }()
		model := NewMemoryOffsetStore()
		var epochs [3]int16 // each producer's epoch; a marker bumps it
		next := func() byte {
			if len(program) == 0 {
				return 0
			}
			b := program[0]
			program = program[1:]
			return b
		}
		groups := []string{"a", "b"}
		for steps := 0; len(program) > 0 && steps < 64; steps++ {
			op, group, part := next()%9, groups[next()%2], tp("t", int32(next()%3))
			id := int64(next() % 3)
			offset := int64(next())
			switch op {
			case 0: // a plain commit
				w := Write{Commits: map[TopicPartition]CommittedOffset{part: committed(offset, "", 1)}}
				require.NoError(t, store.Write(ctx, group, w))
				require.NoError(t, model.Write(ctx, group, w))
			case 1, 2: // a transactional commit
				commits := map[TopicPartition]CommittedOffset{part: committed(offset, "m", 2)}
				err := store.WriteTxn(ctx, group, id, epochs[id], commits)
				require.NoError(t, err)
				require.NoError(t, model.WriteTxn(ctx, group, id, epochs[id], commits))
			case 3, 4: // a marker, which bumps the epoch
				m := txnMarker(id, epochs[id]+1, op == 3)
				if err := store.WriteTxnMarker(ctx, m); err != nil {
					require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
					break
				}
				require.NoError(t, model.WriteTxnMarker(ctx, m))
				epochs[id]++
			case 5: // the last marker again
				m := txnMarker(id, epochs[id], offset%2 == 0)
				if epochs[id] == 0 {
					break
				}
				err := store.WriteTxnMarker(ctx, m)
				if err != nil {
					// Refused while a transaction of that epoch is open (KIP-890).
					require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
					break
				}
				require.NoError(t, model.WriteTxnMarker(ctx, m))
			case 6: // a deletion
				w := Write{Deletes: []TopicPartition{part}}
				require.NoError(t, store.Write(ctx, group, w))
				require.NoError(t, model.Write(ctx, group, w))
			case 7: // an undecodable record, transactional or not
				records := []partition.Record{{Key: []byte{0, 9, next()}, Value: []byte{next()}}}
				if offset%2 == 0 {
					_, err = store.append(ctx, records)
				} else {
					_, err = store.producerAppend(ctx, records, &partition.Producer{ID: id, Epoch: epochs[id], Transactional: true, Coordinator: true})
				}
				require.NoError(t, err)
			case 8: // a restart
				require.NoError(t, store.Close())
				store, err = OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: fsys})
				require.NoError(t, err)
			}
			requireSameTables(t, model, store)
		}
		require.NoError(t, store.Close())
		store, err = OpenPartitionOffsetStore(offsetsDir, &partition.Options{FS: fsys})
		require.NoError(t, err)
		requireSameTables(t, model, store)
		for _, s := range store.Skipped() {
			require.True(t, errors.Is(s.Err, ErrCorrupt))
		}
	})
}

// requireSameTables checks that two stores hold the same groups, committed offsets
// and pending partitions.
func requireSameTables(t *testing.T, want, got OffsetStore) {
	t.Helper()
	require.Equal(t, want.Groups(), got.Groups())
	for _, g := range want.Groups() {
		requireOffsets(t, want.Offsets(g), got.Offsets(g))
		require.Equal(t, want.PendingTxnPartitions(g), got.PendingTxnPartitions(g), "group %q", g)
	}
}
