package group

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// FuzzReplayOffsets replays __consumer_offsets holding an arbitrary record between two
// good commits: the store opens whatever the record holds (a record it cannot decode
// is skipped and reported, never a failed Open or a panic), and the good commits
// around it are there.
func FuzzReplayOffsets(f *testing.F) {
	f.Add(encodeOffsetKey("g", tp("t", 0)), encodeOffsetValue(committed(5, "m", 1)), false)
	f.Add([]byte{0, 9, 0, 0}, []byte{1}, false)
	f.Add(encodeOffsetKey("h", tp("t", 0)), []byte{0, 3, 1}, false)
	f.Add(encodeOffsetKey("h", tp("t", 0)), []byte(nil), true) // a tombstone
	f.Add([]byte(nil), []byte("junk"), false)
	f.Fuzz(func(t *testing.T, key, value []byte, tombstone bool) {
		if tombstone {
			value = nil
		}
		p, err := partition.Open(offsetsDir, &partition.Options{FS: vfs.NewMem()})
		require.NoError(t, err)
		defer p.Close()
		_, err = p.Append(context.Background(), []partition.Record{
			{Key: encodeOffsetKey("good", tp("t", 0)), Value: encodeOffsetValue(committed(1, "", 1))},
			{Key: key, Value: value},
			{Key: encodeOffsetKey("good", tp("t", 1)), Value: encodeOffsetValue(committed(7, "", 1))},
		})
		require.NoError(t, err)
		s, err := NewPartitionOffsetStore(p)
		require.NoError(t, err)
		offsets := s.Offsets("good")
		require.Equal(t, int64(7), offsets[tp("t", 1)].Offset)
		if _, ok := offsets[tp("t", 0)]; !ok {
			// Only the fuzzed record may have removed it: a tombstone of its key.
			require.Equal(t, encodeOffsetKey("good", tp("t", 0)), key)
		}
		for _, skipped := range s.Skipped() {
			require.Equal(t, int64(1), skipped.Offset)
			require.ErrorIs(t, skipped.Err, ErrCorrupt)
		}
	})
}
