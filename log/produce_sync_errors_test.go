package log_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestProduceSyncClosedAndCanceled: ProduceSync on a closed producer returns at
// once with ErrClosed for every record; with a ctx that has ended, records that
// fit in the buffer are still produced (ctx bounds only the wait for space) and
// the ones that would wait for space fail with the ctx's error, each in its own
// result.
func TestProduceSyncClosedAndCanceled(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour, MaxBufferedBytes: 400})
	require.NoError(t, err)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	results := producer.ProduceSync(canceled,
		&log.Record{Topic: "t", Value: make([]byte, 300)}, // fits in the empty buffer
		&log.Record{Topic: "t", Value: make([]byte, 300)}) // would wait for space
	require.NoError(t, results[0].Err)
	require.Equal(t, int64(0), results[0].Record.Offset)
	require.ErrorIs(t, results[1].Err, context.Canceled)
	require.Equal(t, int64(-1), results[1].Record.Offset)
	require.ErrorIs(t, results.FirstErr(), context.Canceled)

	require.NoError(t, producer.Close())
	results = producer.ProduceSync(context.Background(),
		&log.Record{Topic: "t", Value: []byte("a")}, nil, &log.Record{Topic: "t", Value: []byte("b")})
	require.Len(t, results, 3)
	require.ErrorIs(t, results[0].Err, log.ErrClosed)
	require.ErrorIs(t, results[1].Err, log.ErrInvalidArgument, "a nil record")
	require.ErrorIs(t, results[2].Err, log.ErrClosed)
	require.Equal(t, int64(1), describe(t, s, "t").Partitions[0].EndOffset, "nothing written after Close")
}
