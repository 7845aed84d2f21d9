package partition_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// replicateTransaction copies to the follower p a transactional batch of n records
// of producer id at epoch from sequence, at p's end, as a leader's fetch would.
func replicateTransaction(t *testing.T, p *partition.Partition, id int64, epoch int16, sequence int32, n int) {
	t.Helper()
	batch, err := segment.AppendBatch(nil, records(p.WrittenOffset(), n, 1<<30), &segment.BatchOptions{
		Idempotent: true, ProducerID: id, ProducerEpoch: epoch, BaseSequence: sequence, Transactional: true})
	require.NoError(t, err)
	segment.SetBaseOffset(batch, p.WrittenOffset())
	_, err = p.AppendReplica(context.Background(), batch)
	require.NoError(t, err)
}

// replicateCommit copies to the follower p the COMMIT marker of producer id's
// transaction (coordinator epoch 5), at p's end.
func replicateCommit(t *testing.T, p *partition.Partition, id int64, epoch int16) {
	t.Helper()
	commit := []partition.Record{{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 5}, Timestamp: 2000}}
	marker, err := segment.AppendBatch(nil, commit, &segment.BatchOptions{
		Idempotent: true, ProducerID: id, ProducerEpoch: epoch, Transactional: true, Control: true})
	require.NoError(t, err)
	segment.SetBaseOffset(marker, p.WrittenOffset())
	_, err = p.AppendReplica(context.Background(), marker)
	require.NoError(t, err)
}

// TestIdempotentTruncationOfMarkerReopensTransaction: a follower copies a
// producer's transactional batch and its COMMIT marker, then truncates the marker
// away (its leader never had it). The transaction is open again in the log, as
// Kafka's truncateAndReload finds it: a plain batch of that producer is
// ErrInvalidTxnState, not appended inside the open transaction.
func TestIdempotentTruncationOfMarkerReopensTransaction(t *testing.T) {
	p := openDir(t, vfs.NewMem(), followerDir, partition.Options{})
	defer p.Close()
	replicateTransaction(t, p, 4, 1, 0, 2)
	replicateCommit(t, p, 4, 1)
	_, err := p.TruncateTo(2)
	require.NoError(t, err)
	_, err = appendProduced(p, 4, 1, 2, 1)
	require.ErrorIs(t, err, partition.ErrInvalidTxnState, "the transaction from offset 0 is open again")
	require.EqualValues(t, 2, p.WrittenOffset())
}
