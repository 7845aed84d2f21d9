package log_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

func TestProduceSetsPartitionOffsetAndTimestamp(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := openStore(t, vfs.NewMem(), &log.Options{Now: func() time.Time { return now }})
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	stamped := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	records := []*log.Record{
		{Topic: "t", Partition: 1, ExplicitPartition: true, Value: []byte("a")},
		{Topic: "t", Partition: 0, ExplicitPartition: true, Value: []byte("b"), Timestamp: stamped},
		{Topic: "t", Partition: 1, ExplicitPartition: true, Value: []byte("c"), Headers: []log.Header{{Key: "h", Value: []byte("x")}}},
	}
	require.NoError(t, s.Produce(context.Background(), records...))
	require.Equal(t, int64(0), records[0].Offset)
	require.Equal(t, int64(0), records[1].Offset)
	require.Equal(t, int64(1), records[2].Offset)
	require.Equal(t, now, records[0].Timestamp)
	require.Equal(t, stamped, records[1].Timestamp)

	// Records of one partition in one call go as one batch.
	stats := s.Stats().Topics[0].Partitions
	require.Equal(t, uint64(1), stats[1].Appends)
	require.Equal(t, uint64(2), stats[1].AppendedRecords)

	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Assign(tp("t", 1)))
	got := pollN(t, c, 2)
	require.Equal(t, []byte("c"), got[1].Value)
	require.Equal(t, []log.Header{{Key: "h", Value: []byte("x")}}, got[1].Headers)
	require.True(t, now.Equal(got[0].Timestamp))
}

func TestProduceRejectsBadInputBeforeWriting(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	ctx := context.Background()
	good := &log.Record{Topic: "t", Value: []byte("v")}
	require.ErrorIs(t, s.Produce(ctx, good, nil), log.ErrInvalidArgument)
	require.ErrorIs(t, s.Produce(ctx, good, &log.Record{Topic: "missing"}), log.ErrUnknownTopic)
	require.ErrorIs(t, s.Produce(ctx, good, &log.Record{Topic: "t", Partition: 2, ExplicitPartition: true}), log.ErrUnknownPartition)
	require.ErrorIs(t, s.Produce(ctx, good, &log.Record{Topic: "t", Partition: -1, ExplicitPartition: true}), log.ErrUnknownPartition)
	for _, p := range describe(t, s, "t").Partitions {
		require.Equal(t, int64(0), p.EndOffset)
	}
	require.NoError(t, s.Produce(ctx), "no records: nothing to do")
}

func TestProduceRecordTooLarge(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{MaxBatchBytes: 1024})
	big := &log.Record{Topic: "t", Value: make([]byte, 2000)}
	err := s.Produce(context.Background(), big)
	require.ErrorIs(t, err, log.ErrRecordTooLarge)
	require.Equal(t, int64(-1), big.Offset)
	require.Equal(t, int64(0), describe(t, s, "t").Partitions[0].EndOffset)
}

// A call holding more than MaxBatchBytes for a partition is written as several
// batches, in order; compressible records that only fit compressed go together.
func TestProduceSplitsLargeCalls(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "plain", log.TopicConfig{MaxBatchBytes: 4096})
	createTopic(t, s, "zstd", log.TopicConfig{MaxBatchBytes: 4096, Compression: log.CompressionZstd})
	for _, topic := range []string{"plain", "zstd"} {
		records := make([]*log.Record, 100)
		for i := range records {
			records[i] = &log.Record{Topic: topic, Value: bytes.Repeat([]byte{byte(i)}, 200)}
		}
		require.NoError(t, s.Produce(context.Background(), records...))
		for i, r := range records {
			require.Equal(t, int64(i), r.Offset)
		}
		st := s.Stats()
		for _, ts := range st.Topics {
			if ts.Name == topic {
				require.Greater(t, ts.Partitions[0].Appends, uint64(1), topic)
				require.Equal(t, uint64(100), ts.Partitions[0].AppendedRecords)
			}
		}
	}
}

// Each codec writes batches smaller than the records, that read back intact.
func TestCompressedTopicRoundTrip(t *testing.T) {
	for _, codec := range []string{log.CompressionGzip, log.CompressionSnappy, log.CompressionZstd} {
		t.Run(codec, func(t *testing.T) {
			s := openStore(t, vfs.NewMem(), nil)
			createTopic(t, s, "t", log.TopicConfig{Compression: codec})
			records := make([]*log.Record, 50)
			raw := 0
			for i := range records {
				records[i] = &log.Record{Topic: "t", Value: bytes.Repeat(value("t", i), 20)}
				raw += len(records[i].Value)
			}
			require.NoError(t, s.Produce(context.Background(), records...))
			require.Less(t, s.Stats().Topics[0].Partitions[0].AppendedBytes, uint64(raw/2), "compressed")
			c, err := s.NewConsumer(log.ConsumerOptions{})
			require.NoError(t, err)
			require.NoError(t, c.Assign(tp("t", 0)))
			for i, r := range pollN(t, c, 50) {
				require.Equal(t, records[i].Value, r.Value)
			}
		})
	}
}
