package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// ListMaxTimestampOffsets answers the first record of the greatest timestamp with
// its batch's leader epoch; an empty partition, and in ReadCommitted a record of
// an open transaction, answer none (-1, -1, -1), as Kafka.
func TestListMaxTimestampOffsets(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	const future = 4_102_444_800_000 // 2100: above the markers' timestamps (now)
	p := log.PartitionLog(t, s, tp("t", 0))
	_, err := p.AppendWith(context.Background(), []partition.Record{{Value: []byte("a"), Timestamp: future + 10}},
		&partition.AppendOptions{Producer: &partition.Producer{ID: 1, Transactional: true}}) // 0, open
	require.NoError(t, err)
	_, err = p.Append(context.Background(), []partition.Record{{Value: []byte("b"), Timestamp: future + 5}}) // 1
	require.NoError(t, err)

	description, err := s.DescribeTopic("t")
	require.NoError(t, err)
	epoch := description.Partitions[0].LeaderEpoch
	none := log.MaxTimestampOffset{Offset: -1, Timestamp: -1, LeaderEpoch: -1}
	got, err := s.ListMaxTimestampOffsets(log.ReadUncommitted, "t")
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]log.MaxTimestampOffset{
		tp("t", 0): {Offset: 0, Timestamp: future + 10, LeaderEpoch: epoch},
		tp("t", 1): none,
	}, got)
	got, err = s.ListMaxTimestampOffsets(log.ReadCommitted, "t")
	require.NoError(t, err)
	require.Equal(t, none, got[tp("t", 0)], "the record lies in an open transaction")

	_, err = p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: 1, Type: partition.MarkerCommit}) // 2
	require.NoError(t, err)
	got, err = s.ListMaxTimestampOffsets(log.ReadCommitted, "t")
	require.NoError(t, err)
	require.Equal(t, log.MaxTimestampOffset{Offset: 0, Timestamp: future + 10, LeaderEpoch: epoch}, got[tp("t", 0)], "committed")

	_, err = s.ListMaxTimestampOffsets(log.IsolationLevel(9), "t")
	require.ErrorIs(t, err, log.ErrInvalidArgument)
	_, err = s.ListMaxTimestampOffsets(log.ReadUncommitted, "missing")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
}

// A transaction marker is a record with a timestamp too: when it is the latest
// write its offset is the answer, as from Kafka.
func TestListMaxTimestampOffsetsCountsMarkers(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	p := log.PartitionLog(t, s, tp("t", 0))
	_, err := p.AppendWith(context.Background(), []partition.Record{{Value: []byte("a"), Timestamp: 1_000}},
		&partition.AppendOptions{Producer: &partition.Producer{ID: 1, Transactional: true}}) // 0
	require.NoError(t, err)
	marker, err := p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: 1, Type: partition.MarkerCommit})
	require.NoError(t, err)
	got, err := s.ListMaxTimestampOffsets(log.ReadCommitted, "t")
	require.NoError(t, err)
	require.Equal(t, marker, got[tp("t", 0)].Offset)
	require.Greater(t, got[tp("t", 0)].Timestamp, int64(1_000))
}
