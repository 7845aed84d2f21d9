package partition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnTruncationReopensTransaction: truncating a transaction's marker away
// makes the transaction open again, as the log now says: the producer may not
// write outside it, and a marker ends it.
func TestTxnTruncationReopensTransaction(t *testing.T) {
	p := openDir(t, vfs.NewMem(), leaderDir, partition.Options{})
	defer p.Close()
	_, err := appendTransactional(p, 3, 0, 0, 2)
	require.NoError(t, err)
	marker := endTxn(t, p, 3, 0, partition.MarkerCommit)
	_, err = p.TruncateTo(marker)
	require.NoError(t, err)
	_, err = appendProduced(p, 3, 0, 2, 1)
	require.ErrorIs(t, err, partition.ErrInvalidTxnState, "the marker is gone: the transaction is open")
	endTxn(t, p, 3, 0, partition.MarkerCommit)
	_, err = appendProduced(p, 3, 0, 2, 1)
	require.NoError(t, err)
}
