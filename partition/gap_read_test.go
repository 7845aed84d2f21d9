package partition_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// A reader that ends a compacted segment whose last batches compaction removed is
// below the base of the next segment, which compaction never wrote (dense): the gap
// between them is compaction's, not damage, and the read goes on without an error.
func TestReadAcrossCompactionGapIntoDenseSegment(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := partition.Options{FS: vfs.NewMem(), Compact: true, DeleteRetention: time.Minute, Now: func() time.Time { return now }}
	p, err := partition.Open("/data/orders-0", &opts)
	require.NoError(t, err)
	defer p.Close()
	ctx := context.Background()
	put := func(key string, value []byte) {
		_, err := p.Append(ctx, []partition.Record{{Key: []byte(key), Value: value, Timestamp: now.UnixMilli()}})
		require.NoError(t, err)
	}
	put("a", []byte("1"))
	put("b", []byte("2"))
	put("c", []byte("3"))
	put("c", nil) // a tombstone, the segment's last batch
	require.NoError(t, p.Roll())
	_, err = p.ForceCompact(ctx)
	require.NoError(t, err)
	now = now.Add(time.Hour) // past the tombstone's delete horizon
	require.NoError(t, p.Roll())
	_, err = p.ForceCompact(ctx)
	require.NoError(t, err)
	put("d", []byte("4"))

	var keys []string
	r := p.NewReader(0, 0)
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			break
		}
		keys = append(keys, string(rec.Key))
	}
	require.Equal(t, []string{"a", "b", "d"}, keys)
}
