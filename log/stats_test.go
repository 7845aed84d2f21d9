package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

func TestStats(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "b", log.TopicConfig{Partitions: 2, SegmentBytes: 512})
	createTopic(t, s, "a", log.TopicConfig{})
	produceInCalls(t, s, "b", 1, 40, 4)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("b", 1))
	pollN(t, c, 40)

	st := s.Stats()
	require.Len(t, st.Topics, 2)
	require.Equal(t, "a", st.Topics[0].Name, "sorted")
	b := st.Topics[1]
	require.Len(t, b.Partitions, 2)
	p := b.Partitions[1]
	require.Equal(t, tp("b", 1), p.TopicPartition)
	require.Equal(t, int64(0), p.StartOffset)
	require.Equal(t, int64(40), p.EndOffset)
	require.Greater(t, p.Segments, 1)
	require.Positive(t, p.Bytes)
	require.Equal(t, uint64(10), p.Appends)
	require.Equal(t, uint64(40), p.AppendedRecords)
	require.Positive(t, p.Syncs, "SyncEveryAppend")
	require.Positive(t, p.BytesRead)
	require.Zero(t, b.Partitions[0].Appends)
}
