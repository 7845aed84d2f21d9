package partition_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// appendTransactional appends n records of producer id's transaction at epoch from
// sequence.
func appendTransactional(p *partition.Partition, id int64, epoch int16, sequence int32, n int) (int64, error) {
	rs := records(p.WrittenOffset(), n, 1<<30)
	return p.AppendWith(context.Background(), rs,
		&partition.AppendOptions{Producer: &partition.Producer{ID: id, Epoch: epoch, BaseSequence: sequence, Transactional: true}})
}

// endTxn appends a marker of producer id at epoch, coordinator epoch 0.
func endTxn(t testing.TB, p *partition.Partition, id int64, epoch int16, typ partition.MarkerType) int64 {
	t.Helper()
	offset, err := p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: id, ProducerEpoch: epoch, Type: typ})
	require.NoError(t, err)
	return offset
}

// TestTxnMarkerKafkaFormat: a marker is one control batch in Kafka's bytes, and it
// ends the producer's transaction.
func TestTxnMarkerKafkaFormat(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	_, err := appendTransactional(p, 7, 3, 0, 2)
	require.NoError(t, err)
	_, err = appendProduced(p, 7, 3, 2, 1)
	require.ErrorIs(t, err, partition.ErrInvalidTxnState, "the transaction is open")

	offset, err := p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: 7, ProducerEpoch: 3, CoordinatorEpoch: 9, Type: partition.MarkerCommit})
	require.NoError(t, err)
	require.EqualValues(t, 2, offset)

	b, err := p.ReadBatches(nil, offset, 1<<20)
	require.NoError(t, err)
	hs := headers(t, b)
	require.Len(t, hs, 1)
	h := hs[0]
	require.True(t, h.IsControl())
	require.True(t, h.IsTransactional())
	require.EqualValues(t, 0x30, h.Attributes&0x30, "attribute bits 4 and 5")
	require.EqualValues(t, 7, h.ProducerID)
	require.EqualValues(t, 3, h.ProducerEpoch)
	require.EqualValues(t, -1, h.BaseSequence, "Kafka writes markers without a sequence")
	require.EqualValues(t, 1, h.RecordCount)
	var d segment.Decoder
	require.NoError(t, d.Reset(b))
	var r segment.Record
	ok, err := d.Next(&r)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []byte{0, 0, 0, 1}, r.Key, "version 0, type 1 (commit)")
	require.Equal(t, []byte{0, 0, 0, 0, 0, 9}, r.Value, "version 0, coordinator epoch 9")

	base, err := appendProduced(p, 7, 3, 2, 1)
	require.NoError(t, err, "the marker ended the transaction")
	require.EqualValues(t, 3, base)
}

// TestTxnMarkerChecks: a marker is refused, and nothing written, for a stale
// producer epoch, a stale coordinator epoch, or invalid fields; a marker for a
// producer without an open transaction is written.
func TestTxnMarkerChecks(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	ctx := context.Background()
	_, err := appendTransactional(p, 1, 4, 0, 1)
	require.NoError(t, err)
	_, err = p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: 1, ProducerEpoch: 4, CoordinatorEpoch: 5, Type: partition.MarkerAbort})
	require.NoError(t, err)
	_, err = appendTransactional(p, 1, 4, 1, 1)
	require.NoError(t, err)

	tests := []struct {
		name   string
		marker partition.TxnMarker
		want   error
	}{
		{"stale producer epoch", partition.TxnMarker{ProducerID: 1, ProducerEpoch: 3, CoordinatorEpoch: 5}, partition.ErrInvalidProducerEpoch},
		{"stale coordinator epoch", partition.TxnMarker{ProducerID: 1, ProducerEpoch: 4, CoordinatorEpoch: 4}, partition.ErrTransactionCoordinatorFenced},
		{"negative producer id", partition.TxnMarker{ProducerID: -1}, partition.ErrInvalidArgument},
		{"negative producer epoch", partition.TxnMarker{ProducerID: 1, ProducerEpoch: -1}, partition.ErrInvalidArgument},
		{"negative coordinator epoch", partition.TxnMarker{ProducerID: 1, ProducerEpoch: 4, CoordinatorEpoch: -1}, partition.ErrInvalidArgument},
		{"unknown type", partition.TxnMarker{ProducerID: 1, ProducerEpoch: 4, CoordinatorEpoch: 5, Type: 2}, partition.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end := p.WrittenOffset()
			_, err := p.AppendTxnMarker(ctx, tt.marker)
			require.ErrorIs(t, err, tt.want)
			require.Equal(t, end, p.WrittenOffset(), "nothing written")
			_, err = appendProduced(p, 1, 4, 2, 1)
			require.ErrorIs(t, err, partition.ErrInvalidTxnState, "the transaction is still open")
		})
	}

	// A newer coordinator epoch ends the transaction.
	_, err = p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: 1, ProducerEpoch: 4, CoordinatorEpoch: 6, Type: partition.MarkerCommit})
	require.NoError(t, err)
	_, err = appendProduced(p, 1, 4, 2, 1)
	require.NoError(t, err)

	// A marker for a producer without an open transaction is written and ends
	// nothing.
	end := p.WrittenOffset()
	offset := endTxn(t, p, 99, 0, partition.MarkerAbort)
	require.Equal(t, end, offset)
	require.Equal(t, end+1, p.WrittenOffset())
}

// TestTxnMarkerAppendBatchRefusesMarkers: a producer cannot write a marker itself.
func TestTxnMarkerAppendBatchRefusesMarkers(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	marker, err := segment.AppendBatch(nil, []partition.Record{{Key: []byte{0, 0, 0, 0}, Value: []byte{0, 0, 0, 0, 0, 0}, Timestamp: 1}},
		&segment.BatchOptions{Idempotent: true, ProducerID: 1, BaseSequence: -1, Transactional: true, Control: true})
	require.NoError(t, err)
	_, err = p.AppendBatch(context.Background(), marker)
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
	require.EqualValues(t, 0, p.WrittenOffset())
}

// TestTxnMarkerTransactionVersion2: with KIP-890's epoch bump, a marker carries the
// bumped epoch; a late marker of an earlier transaction cannot end the next one
// (the Bufstream anomaly), while a retry of the marker already written is accepted
// and ends nothing.
func TestTxnMarkerTransactionVersion2(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	ctx := context.Background()
	commit := partition.TxnMarker{ProducerID: 1, ProducerEpoch: 1, Type: partition.MarkerCommit, TransactionVersion: 2}
	_, err := appendTransactional(p, 1, 0, 0, 1) // transaction 1, epoch 0
	require.NoError(t, err)
	_, err = p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: 1, ProducerEpoch: 0, Type: partition.MarkerCommit, TransactionVersion: 2})
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch, "a TV2 marker must bump the epoch")
	_, err = p.AppendTxnMarker(ctx, commit)
	require.NoError(t, err)
	_, err = p.AppendTxnMarker(ctx, commit)
	require.NoError(t, err, "a retry of the marker that ended the transaction")

	txn2, err := appendTransactional(p, 1, 1, 0, 1) // transaction 2, epoch 1
	require.NoError(t, err)
	end := p.WrittenOffset()
	_, err = p.AppendTxnMarker(ctx, commit)
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch, "transaction 1's late marker must not end transaction 2")
	require.Equal(t, end, p.WrittenOffset())
	require.Equal(t, txn2, p.LastStableOffset(), "transaction 2 is still open")
	_, err = p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: 1, ProducerEpoch: 2, Type: partition.MarkerAbort, TransactionVersion: 2})
	require.NoError(t, err)
	require.Equal(t, p.EndOffset(), p.LastStableOffset())
	_, err = p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: 1, ProducerEpoch: 2, TransactionVersion: 3})
	require.ErrorIs(t, err, partition.ErrInvalidArgument)
}
