package log_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// ProduceSync returns one result per record, in order, without waiting for Linger
// (the fake clock does not move), and FirstErr names the first failure.
func TestProduceSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
		require.NoError(t, err)
		defer s.Close()
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2, MaxBatchBytes: 1024})
		producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour})
		require.NoError(t, err)
		start := time.Now()
		results := producer.ProduceSync(context.Background(),
			&log.Record{Topic: "t", Partition: 1, ExplicitPartition: true, Value: []byte("a")},
			&log.Record{Topic: "t", Partition: 0, ExplicitPartition: true, Value: []byte("b")},
			&log.Record{Topic: "t", Partition: 1, ExplicitPartition: true, Value: []byte("c")})
		require.Zero(t, time.Since(start), "written without lingering")
		require.NoError(t, results.FirstErr())
		require.Len(t, results, 3)
		for i, want := range []struct {
			partition int32
			offset    int64
			value     string
		}{{1, 0, "a"}, {0, 0, "b"}, {1, 1, "c"}} {
			require.NoError(t, results[i].Err)
			require.Equal(t, want.partition, results[i].Record.Partition)
			require.Equal(t, want.offset, results[i].Record.Offset)
			require.Equal(t, want.value, string(results[i].Record.Value))
		}
		r, err := results.First()
		require.NoError(t, err)
		require.Equal(t, "a", string(r.Value))

		results = producer.ProduceSync(context.Background(),
			&log.Record{Topic: "t", Value: []byte("fine")},
			&log.Record{Topic: "nope"},
			&log.Record{Topic: "t", Partition: 0, ExplicitPartition: true, Value: make([]byte, 2000)})
		require.NoError(t, results[0].Err)
		require.ErrorIs(t, results[1].Err, log.ErrUnknownTopic)
		require.ErrorIs(t, results[2].Err, log.ErrRecordTooLarge)
		require.ErrorIs(t, results.FirstErr(), log.ErrUnknownTopic, "the first failure in record order")

		require.Nil(t, producer.ProduceSync(context.Background()).FirstErr())
		r, err = producer.ProduceSync(context.Background()).First()
		require.Nil(t, r)
		require.NoError(t, err)
	})
}
