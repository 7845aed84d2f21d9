package partition_test

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// appendProduced appends n records of producer id at epoch from sequence with
// AppendWith, stamped with the partition's clock (a producer's state expires
// ProducerIDExpiration after its newest batch's timestamp).
func appendProduced(p *partition.Partition, id int64, epoch int16, sequence int32, n int) (int64, error) {
	rs := records(p.WrittenOffset(), n, 1<<30)
	for i := range rs {
		rs[i].Timestamp = 0
	}
	return p.AppendWith(context.Background(), rs,
		&partition.AppendOptions{Producer: &partition.Producer{ID: id, Epoch: epoch, BaseSequence: sequence}})
}

func TestIdempotentAppendWith(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	appendBatches(t, p, 2) // a plain batch first: offsets 0-1

	base, err := appendProduced(p, 7, 0, 0, 3)
	require.NoError(t, err)
	require.EqualValues(t, 2, base)
	base, err = appendProduced(p, 7, 0, 3, 2)
	require.NoError(t, err)
	require.EqualValues(t, 5, base)

	// A retry: the original offset, nothing written.
	base, err = appendProduced(p, 7, 0, 0, 3)
	require.ErrorIs(t, err, partition.ErrDuplicateSequence)
	require.EqualValues(t, 2, base)
	var dup *partition.DuplicateSequenceError
	require.ErrorAs(t, err, &dup)
	require.Equal(t, partition.DuplicateSequenceError{BaseOffset: 2, LastOffset: 4}, *dup)
	require.EqualValues(t, 7, p.WrittenOffset())

	// A gap and a stale epoch: refused, nothing written.
	_, err = appendProduced(p, 7, 0, 6, 1)
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence)
	_, err = appendProduced(p, 7, 1, 1, 1)
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence, "a new epoch starts at sequence 0")
	base, err = appendProduced(p, 7, 1, 0, 1)
	require.NoError(t, err)
	require.EqualValues(t, 7, base)
	_, err = appendProduced(p, 7, 0, 5, 1)
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
	require.EqualValues(t, 8, p.WrittenOffset())

	// The producer identity is in the batches.
	hs := headers(t, readBatchesAll(t, p, 0))
	require.Len(t, hs, 4)
	require.EqualValues(t, partition.NoProducerID, hs[0].ProducerID)
	require.EqualValues(t, 7, hs[1].ProducerID)
	require.EqualValues(t, 3, hs[2].BaseSequence)
	require.EqualValues(t, 1, hs[3].ProducerEpoch)

	_, err = p.AppendWith(context.Background(), records(0, 1, 1), &partition.AppendOptions{Producer: &partition.Producer{ID: -2}})
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
}

func TestIdempotentAppendBatch(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	batch := func(sequence int32, n int) []byte {
		b, err := segment.AppendBatch(nil, records(0, n, 1<<30), &segment.BatchOptions{Idempotent: true, ProducerID: 3, ProducerEpoch: 2, BaseSequence: sequence})
		require.NoError(t, err)
		return b
	}
	for i := range 3 {
		base, err := p.AppendBatch(context.Background(), batch(int32(2*i), 2))
		require.NoError(t, err)
		require.EqualValues(t, 2*i, base)
	}
	base, err := p.AppendBatch(context.Background(), batch(2, 2))
	require.ErrorIs(t, err, partition.ErrDuplicateSequence)
	require.EqualValues(t, 2, base)
	_, err = p.AppendBatch(context.Background(), batch(7, 1))
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence)
	require.EqualValues(t, 6, p.WrittenOffset())

	// A producer id with base sequence -1 (the CRC recomputed): invalid, nothing
	// written.
	b := batch(6, 1)
	binary.BigEndian.PutUint32(b[53:], 0xffffffff) // baseSequence -1
	binary.BigEndian.PutUint32(b[17:], crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), b[21:]))
	_, err = p.AppendBatch(context.Background(), b)
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
	require.ErrorContains(t, err, "base sequence -1")
	require.EqualValues(t, 6, p.WrittenOffset())

	// A transaction marker from a producer: refused, as Kafka's leader does.
	marker, err := segment.AppendBatch(nil, records(0, 1, 1), &segment.BatchOptions{Idempotent: true, ProducerID: 3, ProducerEpoch: 2, Transactional: true, Control: true})
	require.NoError(t, err)
	_, err = p.AppendBatch(context.Background(), marker)
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
	require.ErrorContains(t, err, "control batch")
	require.EqualValues(t, 6, p.WrittenOffset())
}

// TestIdempotentFollowerKnowsProducers: a follower takes the leader's batches
// without checks, and then knows the producer's sequence as the leader does (a new
// leader recognises a retry).
func TestIdempotentFollowerKnowsProducers(t *testing.T) {
	fsys := vfs.NewMem()
	leader := openDir(t, fsys, leaderDir, partition.Options{})
	defer leader.Close()
	follower := openDir(t, fsys, followerDir, partition.Options{})
	defer follower.Close()
	_, err := appendProduced(leader, 9, 0, 0, 2)
	require.NoError(t, err)
	_, err = appendProduced(leader, 9, 0, 2, 2)
	require.NoError(t, err)
	replicate(t, leader, follower, 1<<20)

	base, err := appendProduced(follower, 9, 0, 0, 2)
	require.ErrorIs(t, err, partition.ErrDuplicateSequence)
	require.EqualValues(t, 0, base)
	_, err = appendProduced(follower, 9, 0, 5, 1)
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence)
	base, err = appendProduced(follower, 9, 0, 4, 1)
	require.NoError(t, err)
	require.EqualValues(t, 4, base)
}

// TestIdempotentRetryWaitsForTheOriginal: under SyncEveryAppend a retry that arrives
// while the original batch waits for its fsync is answered only once the original is
// acknowledged: a duplicate is never acknowledged before the batch it repeats.
func TestIdempotentRetryWaitsForTheOriginal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := newSyncGate()
		p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{Hooks: partition.Hooks{OnFsync: gate.hook}})
		defer p.Close()
		type result struct {
			base int64
			err  error
		}
		original, retry := make(chan result, 1), make(chan result, 1)
		gate.arm()
		go func() {
			base, err := appendProduced(p, 1, 0, 0, 2)
			original <- result{base, err}
		}()
		gate.waitEntered()
		go func() {
			base, err := appendProduced(p, 1, 0, 0, 2)
			retry <- result{base, err}
		}()
		synctest.Wait()
		select {
		case r := <-retry:
			t.Fatalf("the retry returned (%d, %v) before the original was acknowledged", r.base, r.err)
		default:
		}
		gate.open()
		r := <-original
		require.NoError(t, r.err)
		r = <-retry
		require.ErrorIs(t, r.err, partition.ErrDuplicateSequence)
		require.EqualValues(t, 0, r.base)
	})
}

// TestIdempotentFollowerTracksTransactions: a follower copies a producer's
// transactional batch (its transaction is then open: a plain batch of that producer
// is ErrInvalidTxnState) and then the COMMIT marker that ends it.
func TestIdempotentFollowerTracksTransactions(t *testing.T) {
	p := openDir(t, vfs.NewMem(), followerDir, partition.Options{})
	defer p.Close()
	txn, err := segment.AppendBatch(nil, records(0, 2, 1<<30), &segment.BatchOptions{Idempotent: true, ProducerID: 4, ProducerEpoch: 1, Transactional: true})
	require.NoError(t, err)
	_, err = p.AppendReplica(context.Background(), txn)
	require.NoError(t, err)
	_, err = appendProduced(p, 4, 1, 2, 1)
	require.ErrorIs(t, err, partition.ErrInvalidTxnState)

	commit := []partition.Record{{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 5}, Timestamp: 2000}} // COMMIT, coordinator epoch 5
	marker, err := segment.AppendBatch(nil, commit, &segment.BatchOptions{Idempotent: true, ProducerID: 4, ProducerEpoch: 1, Transactional: true, Control: true})
	require.NoError(t, err)
	segment.SetBaseOffset(marker, 2)
	_, err = p.AppendReplica(context.Background(), marker)
	require.NoError(t, err)
	base, err := appendProduced(p, 4, 1, 2, 1)
	require.NoError(t, err, "the marker ended the transaction")
	require.EqualValues(t, 3, base)
}
