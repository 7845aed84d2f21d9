package partition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnReadPastMarkers: Read at a marker's offset steps over the control
// batches it fetched and returns the records after them, even when a fetch of
// maxBytes holds nothing but a marker; past the last record it returns none.
func TestTxnReadPastMarkers(t *testing.T) {
	p := openDir(t, vfs.NewMem(), partitionDir, partition.Options{})
	defer p.Close()
	_, err := appendTransactional(p, 1, 0, 0, 1) // offset 0
	require.NoError(t, err)
	marker := endTxn(t, p, 1, 0, partition.MarkerCommit) // offset 1
	require.Equal(t, int64(1), marker)
	_, err = p.Append(t.Context(), records(2, 1, 1)) // offset 2
	require.NoError(t, err)

	got, err := p.Read(marker, 0, 1) // one batch per fetch: the marker alone
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(2), got[0].Offset)

	endTxn(t, p, 1, 0, partition.MarkerAbort) // a marker last (it ends nothing)
	got, err = p.Read(3, 0, 1)
	require.NoError(t, err)
	require.Empty(t, got)
}
