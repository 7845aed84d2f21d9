package log_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// One oversized record fails alone: records sealed behind it, which fit, are
// written, even when the sender writes several sealed batches at once. (Found in
// review: one failed batch failed every record written with it.)
func TestProducerOversizedRecordFailsAlone(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 1, MaxBatchBytes: 1024})
	// BatchBytes small: each record below seals its own batch at once.
	producer, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour, BatchBytes: 100})
	require.NoError(t, err)
	ctx := testContext(t)

	entered, gate := make(chan struct{}), make(chan struct{})
	results := make(chan error, 3)
	rec := func(n int) *log.Record {
		return &log.Record{Topic: "t", Partition: 0, ExplicitPartition: true, Value: bytes.Repeat([]byte("x"), n)}
	}
	// R0: its promise holds the sender, so that R1 and R2 are sealed behind it and
	// written together in the sender's next pass.
	producer.Produce(ctx, rec(150), func(_ *log.Record, err error) {
		close(entered)
		<-gate
		results <- err
	})
	<-entered
	producer.Produce(ctx, rec(4000), func(_ *log.Record, err error) { results <- err }) // R1: too large
	producer.Produce(ctx, rec(150), func(_ *log.Record, err error) { results <- err })  // R2: fits
	close(gate)
	require.NoError(t, <-results, "R0")
	require.True(t, errors.Is(<-results, log.ErrRecordTooLarge), "R1 is too large")
	require.NoError(t, <-results, "R2 fits MaxBatchBytes: it must not fail because R1 did")
	require.NoError(t, producer.Close())
}
