package partition_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnProducersDescribe: Producers shows each producer's epoch, last sequence,
// timestamp and coordinator epoch, and the first offset of its open transaction
// until a marker ends it; after a reopen (the state read from the snapshot) it
// shows the same.
func TestTxnProducersDescribe(t *testing.T) {
	fsys := vfs.NewMem()
	opts := partition.Options{Now: func() time.Time { return time.UnixMilli(5_000) }}
	p := openDir(t, fsys, leaderDir, opts)
	_, err := appendProduced(p, 3, 0, 0, 2) // idempotent: offsets 0-1, sequences 0-1
	require.NoError(t, err)
	_, err = appendTransactional(p, 7, 1, 0, 3) // a transaction: offsets 2-4
	require.NoError(t, err)
	_, err = appendTransactional(p, 9, 0, 0, 1) // another, offset 5, ended below
	require.NoError(t, err)
	_, err = p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: 9, ProducerEpoch: 0, CoordinatorEpoch: 4, Type: partition.MarkerAbort})
	require.NoError(t, err)

	want := []partition.ProducerState{
		{ProducerID: 3, ProducerEpoch: 0, LastSequence: 1, LastTimestamp: 5_000, CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1},
		{ProducerID: 7, ProducerEpoch: 1, LastSequence: 2, LastTimestamp: 1_004, CoordinatorEpoch: -1, CurrentTxnFirstOffset: 2},
		{ProducerID: 9, ProducerEpoch: 0, LastSequence: 0, LastTimestamp: 5_000, CoordinatorEpoch: 4, CurrentTxnFirstOffset: -1},
	}
	got, err := p.Producers()
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.EqualValues(t, 2, p.LastStableOffset(), "the open transaction holds it")

	require.NoError(t, p.Close())
	_, err = p.Producers()
	require.ErrorIs(t, err, partition.ErrClosed)

	p = openDir(t, fsys, leaderDir, opts)
	defer p.Close()
	got, err = p.Producers()
	require.NoError(t, err)
	require.Equal(t, want, got, "after a reopen")
}
