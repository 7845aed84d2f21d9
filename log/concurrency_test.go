package log_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// Many producers (synchronous and asynchronous) and consumers on many goroutines,
// with topic changes and Stats alongside: every record is consumed exactly once per
// consumer, offsets are contiguous, and each producer's records keep their order.
func TestManyProducersAndConsumers(t *testing.T) {
	const (
		partitions       = 4
		syncWriters      = 4
		asyncProducers   = 2
		writersPerAsync  = 2
		recordsPerWriter = 150
		consumers        = 3
	)
	writers := syncWriters + asyncProducers*writersPerAsync
	total := writers * recordsPerWriter
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "events", log.TopicConfig{Partitions: partitions, SegmentBytes: 4096})
	ctx := testContext(t)

	var consumed [consumers][]*log.Record
	var consumersDone sync.WaitGroup
	for i := range consumers {
		c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 37},
			tp("events", 0), tp("events", 1), tp("events", 2), tp("events", 3))
		consumersDone.Go(func() {
			for len(consumed[i]) < total {
				records, err := c.Poll(ctx)
				if err != nil {
					t.Errorf("consumer %d: %v", i, err)
					return
				}
				consumed[i] = append(consumed[i], records...)
			}
		})
	}

	var writersDone sync.WaitGroup
	record := func(writer, seq int) *log.Record {
		return &log.Record{Topic: "events", Key: fmt.Appendf(nil, "writer-%d", writer), Value: fmt.Appendf(nil, "%d/%d", writer, seq)}
	}
	for w := range syncWriters {
		writersDone.Go(func() {
			for seq := 0; seq < recordsPerWriter; {
				n := min(1+seq%5, recordsPerWriter-seq)
				batch := make([]*log.Record, n)
				for i := range batch {
					batch[i] = record(w, seq+i)
				}
				if err := s.Produce(ctx, batch...); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				seq += n
			}
		})
	}
	for a := range asyncProducers {
		producer, err := s.NewProducer(log.ProducerOptions{BatchBytes: 512})
		require.NoError(t, err)
		var producerWriters sync.WaitGroup
		for i := range writersPerAsync {
			w := syncWriters + a*writersPerAsync + i
			producerWriters.Go(func() {
				for seq := range recordsPerWriter {
					producer.Produce(ctx, record(w, seq), func(r *log.Record, err error) {
						if err != nil {
							t.Errorf("writer %d: %v", w, err)
						}
					})
				}
			})
		}
		writersDone.Go(func() {
			producerWriters.Wait()
			if err := producer.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	// Topic changes and observers alongside.
	writersDone.Go(func() {
		for i := range 10 {
			name := "side-" + strconv.Itoa(i)
			if err := s.CreateTopic(ctx, name, log.TopicConfig{Partitions: 2}); err != nil {
				t.Error(err)
			}
			s.Stats()
			if _, err := s.DescribeTopic("events"); err != nil {
				t.Error(err)
			}
			if err := s.DeleteTopic(ctx, name); err != nil {
				t.Error(err)
			}
		}
	})
	writersDone.Wait()
	consumersDone.Wait()
	if t.Failed() {
		return
	}

	ends := describe(t, s, "events").Partitions
	var sum int64
	for _, p := range ends {
		sum += p.EndOffset
	}
	require.Equal(t, int64(total), sum)
	for i := range consumers {
		require.Len(t, consumed[i], total, "consumer %d", i)
		nextOffset := map[int32]int64{}
		nextSeq := map[string]int{}
		for _, r := range consumed[i] {
			require.Equal(t, nextOffset[r.Partition], r.Offset, "consumer %d: contiguous offsets in %d", i, r.Partition)
			nextOffset[r.Partition]++
			require.Equal(t, int32(log.KeyPartition(r.Key, partitions)), r.Partition)
			writer, seq, _ := strings.Cut(string(r.Value), "/")
			require.Equal(t, strconv.Itoa(nextSeq[writer]), seq, "consumer %d: writer %s in order", i, writer)
			nextSeq[writer]++
		}
	}
	// Everyone stops cleanly.
	require.NoError(t, s.Close())
}

// Produce and Poll racing with DeleteTopic and AddPartitions fail cleanly, with the
// documented errors, never with a panic or a race.
func TestTopicChangesUnderLoad(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{TopicDefaults: log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncNone}}})
	ctx := testContext(t)
	for round := range 5 {
		createTopic(t, s, "churn", log.TopicConfig{Partitions: 2})
		c := newConsumer(t, s, log.ConsumerOptions{}, tp("churn", 0), tp("churn", 1))
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 3 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := s.Produce(ctx, &log.Record{Topic: "churn", Value: []byte("x")})
					if err != nil && !errorsIsAny(err, log.ErrUnknownTopic) {
						t.Errorf("round %d: produce: %v", round, err)
						return
					}
				}
			})
		}
		polled := make(chan struct{})
		wg.Go(func() {
			for first := true; ; first = false {
				_, err := c.Poll(ctx)
				if first {
					close(polled)
				}
				if err != nil {
					if !errorsIsAny(err, log.ErrUnknownTopic, log.ErrClosed) {
						t.Errorf("round %d: poll: %v", round, err)
					}
					return
				}
			}
		})
		<-polled // records are flowing
		require.NoError(t, s.AddPartitions(ctx, "churn", 4))
		require.NoError(t, s.DeleteTopic(ctx, "churn"))
		close(stop)
		c.Close()
		wg.Wait()
	}
}

func errorsIsAny(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
