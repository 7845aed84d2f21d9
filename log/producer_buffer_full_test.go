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

// TestProducerWaitingForSpaceDoesNotLinger: a Produce that waits for buffer space
// (MaxBufferedBytes) has its partitions' open batches written at once, as Kafka's
// producer makes every batch ready while a thread waits for memory, instead of
// waiting for their Linger to free the space. ProduceSync, whose records do not
// fit in the buffer together, returns without lingering, as it documents. The
// fake clock of synctest moves only if something waits for it.
func TestProducerWaitingForSpaceDoesNotLinger(t *testing.T) {
	records := func() []*log.Record {
		var records []*log.Record
		for range 20 { // about 2700 bytes with recordBound's overhead
			records = append(records, &log.Record{Topic: "t", Value: make([]byte, 100)})
		}
		return records
	}
	synctest.Test(t, func(t *testing.T) {
		s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
		require.NoError(t, err)
		defer s.Close()
		createTopic(t, s, "t", log.TopicConfig{})
		producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour, MaxBufferedBytes: 1000})
		require.NoError(t, err)
		start := time.Now()

		results := producer.ProduceSync(context.Background(), records()...)
		require.NoError(t, results.FirstErr())
		require.Zero(t, time.Since(start), "ProduceSync did not linger")
		require.Equal(t, int64(19), results[19].Record.Offset)

		for _, r := range records() {
			producer.Produce(context.Background(), r, func(r *log.Record, err error) { require.NoError(t, err) })
		}
		require.Zero(t, time.Since(start), "Produce waited for space without lingering")
		require.NoError(t, producer.Flush(context.Background()))
	})
}
