package log_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// produceOne produces r through p, flushes, and returns the error its promise got.
func produceOne(t *testing.T, p *log.Producer, r *log.Record) error {
	t.Helper()
	var got error
	p.Produce(context.Background(), r, func(_ *log.Record, err error) { got = err })
	require.NoError(t, p.Flush(testContext(t)))
	return got
}

// TestIdempotentProducerRetryAfterUnknownOutcomeWritesOnce: the leader writes a
// batch, its follower copies it, and the leader's disk fails before its fsync
// acknowledges it; the producer retries through the new leader (the follower),
// which recognises the batch by its sequence: the record is in the log once, at
// the offset the first attempt wrote it at.
func TestIdempotentProducerRetryAfterUnknownOutcomeWritesOnce(t *testing.T) {
	second, err, values := produceThroughALeaderFsyncFailure(t, log.ProducerOptions{Linger: -1})
	require.NoError(t, err, "retried through the new leader")
	require.Equal(t, int64(1), second.Offset)
	require.Equal(t, []string{"first", "second"}, values, "written once")
}

// Without idempotence, a batch the leader wrote and then failed to fsync, after its
// follower copied it, is not retried (the retry would write it twice): the produce
// fails with ErrOutcomeUnknown, and the record is in the log at most once.
func TestNonIdempotentProducerUnknownOutcomeIsNotRetried(t *testing.T) {
	_, err, values := produceThroughALeaderFsyncFailure(t, log.ProducerOptions{Linger: -1, DisableIdempotence: true})
	require.ErrorIs(t, err, log.ErrOutcomeUnknown)
	// "second" is in the leader's and the follower's logs once; a consumer sees it
	// once the new leader's high watermark passes it, never twice.
	require.Equal(t, "first", values[0])
	require.LessOrEqual(t, len(values), 2, "written once at most: %q", values)
}

// produceThroughALeaderFsyncFailure produces "first", then "second" through a
// producer of popts to a topic of two replicas in a store of two brokers whose
// leader fails the fsync of "second" once its follower has copied it: the leader's
// disk fails, leadership moves. It returns "second", its produce's error and the
// values of the partition after.
func produceThroughALeaderFsyncFailure(t *testing.T, popts log.ProducerOptions) (*log.Record, error, []string) {
	fault, s := openLeaderFsyncFault(t, 2, log.Options{})
	defer s.Close()
	p, err := s.NewProducer(popts)
	require.NoError(t, err)
	defer p.Close()
	first := &log.Record{Topic: "orders", Value: []byte("first"), ExplicitPartition: true}
	require.NoError(t, produceOne(t, p, first))
	leader := fault.arm(t, s)
	second := &log.Record{Topic: "orders", Value: []byte("second"), ExplicitPartition: true}
	err = produceOne(t, p, second)
	if err == nil {
		require.NotEqual(t, leader, describe(t, s, "orders").Partitions[0].Leader, "acknowledged by a new leader")
	}
	// The new leader's high watermark may lag its election for a moment (until
	// the ISR drops the failed leader): wait until readers see "first".
	c, cerr := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, cerr)
	require.NoError(t, c.Assign(tp("orders", 0)))
	pollN(t, c, 1)
	c.Close()
	return second, err, consumeValues(t, s, "orders", 0)
}

// produceValues produces one record per value to partition 0 of topic through p,
// then flushes; every promise must succeed.
func produceValues(t *testing.T, p *log.Producer, topic string, values ...string) {
	t.Helper()
	errs := make([]error, len(values))
	for i, v := range values {
		p.Produce(context.Background(), &log.Record{Topic: topic, Value: []byte(v), ExplicitPartition: true},
			func(_ *log.Record, err error) { errs[i] = err })
	}
	require.NoError(t, p.Flush(testContext(t)))
	for i, err := range errs {
		require.NoError(t, err, "record %d", i)
	}
}

// requireSequences checks that the batches of partition 0 of topic, from the
// first'th on, all carry producer id and epoch, and sequences that follow their
// record counts from 0.
func requireSequences(t *testing.T, s *log.Store, topic string, first int, id int64, epoch int16) {
	t.Helper()
	headers, err := s.BatchHeadersForTest(topic, 0)
	require.NoError(t, err)
	require.Greater(t, len(headers), first)
	next := int32(0)
	for _, h := range headers[first:] {
		require.Equal(t, id, h.ProducerID)
		require.Equal(t, epoch, h.ProducerEpoch)
		require.Equal(t, next, h.BaseSequence, "batch at offset %d", h.BaseOffset)
		next += h.LastOffsetDelta + 1
	}
}

// TestIdempotentProducerNumbersItsBatches: each batch carries the producer's id,
// epoch 0 and the partition's next sequence, including the batches a round is
// split into when it exceeds the topic's MaxBatchBytes; two producers have
// different ids; without idempotence, below AcksAll, or through Store.Produce,
// batches carry none.
func TestIdempotentProducerNumbersItsBatches(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	defer s.Close()
	createTopic(t, s, "orders", log.TopicConfig{MaxBatchBytes: 1024})
	p, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour, BatchBytes: 1 << 20})
	require.NoError(t, err)
	defer p.Close()
	produceValues(t, p, "orders", "a", "b", "c")
	produceValues(t, p, "orders", "d")
	big := strings.Repeat("x", 300)
	produceValues(t, p, "orders", big, big, big, big, big, big, big) // split into several batches
	headers, err := s.BatchHeadersForTest("orders", 0)
	require.NoError(t, err)
	require.Greater(t, len(headers), 3, "the big records took several batches")
	id := headers[0].ProducerID
	require.GreaterOrEqual(t, id, int64(0))
	requireSequences(t, s, "orders", 0, id, 0)

	other, err := s.NewProducer(log.ProducerOptions{Linger: -1})
	require.NoError(t, err)
	defer other.Close()
	produceValues(t, other, "orders", "e")
	headers, _ = s.BatchHeadersForTest("orders", 0)
	last := headers[len(headers)-1]
	require.NotEqual(t, id, last.ProducerID)
	require.Equal(t, int32(0), last.BaseSequence)

	for _, opts := range []log.ProducerOptions{{Linger: -1, DisableIdempotence: true}, {Linger: -1, Acks: log.AcksLeader}} {
		plain, err := s.NewProducer(opts)
		require.NoError(t, err)
		produceValues(t, plain, "orders", "f")
		require.NoError(t, plain.Close())
		headers, _ = s.BatchHeadersForTest("orders", 0)
		require.Equal(t, int64(-1), headers[len(headers)-1].ProducerID, "%+v", opts)
	}
	// Store.Produce is not idempotent.
	require.NoError(t, s.Produce(context.Background(), &log.Record{Topic: "orders", Value: []byte("g"), ExplicitPartition: true}))
	headers, _ = s.BatchHeadersForTest("orders", 0)
	require.Equal(t, int64(-1), headers[len(headers)-1].ProducerID, "Store.Produce")
}

// TestIdempotentProducerSequencesSurviveAReopen: a partition closed and opened
// again (AlterTopicConfig, RepairPartition) knows the producer's sequences: the
// producer goes on with its next sequence in the same epoch, which the reopened
// partition would refuse as out of order had it forgotten them.
func TestIdempotentProducerSequencesSurviveAReopen(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, vfs.NewMem(), nil)
	defer s.Close()
	createTopic(t, s, "orders", log.TopicConfig{})
	p, err := s.NewProducer(log.ProducerOptions{Linger: -1})
	require.NoError(t, err)
	defer p.Close()
	produceValues(t, p, "orders", "a", "b")
	require.NoError(t, s.AlterTopicConfig(ctx, "orders", log.TopicConfig{RetentionBytes: 1 << 30}))
	produceValues(t, p, "orders", "c")
	_, err = s.RepairPartition(ctx, tp("orders", 0), nil)
	require.NoError(t, err)
	produceValues(t, p, "orders", "d", "e")
	headers, err := s.BatchHeadersForTest("orders", 0)
	require.NoError(t, err)
	requireSequences(t, s, "orders", 0, headers[0].ProducerID, 0)
	require.Equal(t, []string{"a", "b", "c", "d", "e"}, consumeValues(t, s, "orders", 0))
}

// TestIdempotentProducerIDsOfProducersUniqueAcrossRestarts: producers of a store
// opened again never share an id with those before.
func TestIdempotentProducerIDsOfProducersUniqueAcrossRestarts(t *testing.T) {
	fsys := vfs.NewMem()
	seen := map[int64]bool{}
	for round := range 3 {
		s := openStore(t, fsys, nil)
		if round == 0 {
			createTopic(t, s, "orders", log.TopicConfig{})
		}
		p, err := s.NewProducer(log.ProducerOptions{Linger: -1})
		require.NoError(t, err)
		produceValues(t, p, "orders", "v")
		require.NoError(t, p.Close())
		headers, err := s.BatchHeadersForTest("orders", 0)
		require.NoError(t, err)
		id := headers[len(headers)-1].ProducerID
		require.False(t, seen[id], "producer id %d again", id)
		seen[id] = true
		require.NoError(t, s.Close())
	}
}
