package partition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// TestReviewReadBatchesChecksSequence: issue 11 asks that "every reader" check that
// batches follow each other, since baseOffset lies outside the CRC. The Reader does
// (follows), but ReadBatches (the raw-batch fetch a Kafka-protocol server would
// serve) returns the batches after the first one as they are on disk: a flipped
// baseOffset in the second batch goes out without an error, and a Kafka client
// renumbers the records silently.
func TestReviewReadBatchesChecksSequence(t *testing.T) {
	fsys, _ := damagedStore(t, true)
	p, err := openAt(fsys, damageOptions())
	require.NoError(t, err)
	loc, err := p.Locate(3) // the second batch of the first segment
	require.NoError(t, err)
	require.NoError(t, p.Close())
	xorBytes(t, fsys, loc.Path, loc.Position, 1<<20)

	p, err = openAt(fsys, damageOptions())
	require.NoError(t, err)
	defer p.Close()
	b, err := p.ReadBatches(nil, 0, 1<<20)
	if err != nil {
		require.ErrorIs(t, err, errs.ErrCorrupt)
		return
	}
	next := int64(0)
	for len(b) > 0 {
		h, err := segment.ParseBatchHeader(b, 1<<20)
		require.NoError(t, err)
		require.Equal(t, next, h.BaseOffset, "ReadBatches returned a batch at the wrong offset without an error")
		next = h.NextOffset()
		b = b[h.Size():]
	}
}
