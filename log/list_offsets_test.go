package log_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

func TestListOffsets(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "a", log.TopicConfig{Partitions: 2})
	createTopic(t, s, "b", log.TopicConfig{})
	t0 := time.UnixMilli(1_800_000_000_000)
	var records []*log.Record
	for i := range 6 { // a-0: timestamps t0, t0+2s, t0+4s; a-1: t0+1s, t0+3s, t0+5s
		records = append(records, &log.Record{Topic: "a", Partition: int32(i % 2), ExplicitPartition: true,
			Value: []byte("v"), Timestamp: t0.Add(time.Duration(i) * time.Second)})
	}
	require.NoError(t, s.Produce(context.Background(), records...))
	produce(t, s, "b", 0, 4)
	require.NoError(t, s.DeleteRecords(context.Background(), tp("b", 0), 3))

	start, err := s.ListStartOffsets()
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]int64{tp("a", 0): 0, tp("a", 1): 0, tp("b", 0): 3}, start, "every topic but internal ones")
	end, err := s.ListEndOffsets("a")
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]int64{tp("a", 0): 3, tp("a", 1): 3}, end)

	at, err := s.ListOffsetsForTime(t0.Add(2*time.Second), "a")
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]int64{tp("a", 0): 1, tp("a", 1): 1}, at)
	at, err = s.ListOffsetsForTime(t0.Add(5*time.Second), "a")
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]int64{tp("a", 0): 3, tp("a", 1): 2}, at, "no record that recent: the end offset")

	_, err = s.ListEndOffsets("a", "missing")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
}

func TestListOffsetsWithAnOfflinePartition(t *testing.T) {
	fsys, _ := damagedStore(t)
	s := openStore(t, fsys, nil)
	end, err := s.ListEndOffsets("orders")
	requireOffline(t, err, "orders-1")
	require.Equal(t, map[log.TopicPartition]int64{tp("orders", 0): 4, tp("orders", 2): 4}, end, "the online partitions")
}
