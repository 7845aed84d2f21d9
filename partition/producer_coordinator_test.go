package partition_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// appendForProducer appends n records that a coordinator writes for producer id at
// epoch, transactional, at base sequence 0 as Kafka's group coordinator does.
func appendForProducer(p *partition.Partition, id int64, epoch int16, n int) (int64, error) {
	rs := records(p.WrittenOffset(), n, 1<<30)
	return p.AppendWith(context.Background(), rs, &partition.AppendOptions{Producer: &partition.Producer{
		ID: id, Epoch: epoch, BaseSequence: 0, Transactional: true, Coordinator: true}})
}

// TestTxnCoordinatorAppendChecksOnlyTheEpoch: batches a coordinator writes for a
// producer (transactional offset commits, all at sequence 0) are neither duplicates
// nor out of order, but a stale epoch is fenced; they open the producer's
// transaction, which its marker ends.
func TestTxnCoordinatorAppendChecksOnlyTheEpoch(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	first, err := appendForProducer(p, 7, 3, 2)
	require.NoError(t, err)
	second, err := appendForProducer(p, 7, 3, 2) // the same sequences: no duplicate
	require.NoError(t, err)
	require.Equal(t, first+2, second)
	_, err = appendForProducer(p, 7, 3, 1) // a sequence below the last: no gap either
	require.NoError(t, err)
	require.EqualValues(t, first, p.LastStableOffset(), "the transaction is open")

	_, err = appendForProducer(p, 7, 2, 1)
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)

	endTxn(t, p, 7, 4, partition.MarkerCommit)
	require.Equal(t, p.WrittenOffset(), p.LastStableOffset())
	_, err = appendForProducer(p, 7, 3, 1)
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch, "the marker's epoch fences the older one")
	_, err = appendForProducer(p, 7, 4, 1)
	require.NoError(t, err)
}
