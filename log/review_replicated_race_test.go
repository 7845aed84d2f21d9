package log_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// returnsWithin fails the test if f does not return within d.
func returnsWithin(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// A Store.Produce without a deadline that races DeleteTopic returns: the records
// written, or an error (the topic deleted), never a wait for a leader that the
// deleted partition will not get.
func TestReplicatedProduceRacingDeleteTopicReturns(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	var unexpected atomic.Pointer[error]
	for range 20 {
		createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := s.Produce(context.Background(), &log.Record{Topic: "orders", Value: []byte("x")})
					if err != nil && !errors.Is(err, log.ErrUnknownTopic) {
						unexpected.CompareAndSwap(nil, &err)
					}
				}
			})
		}
		require.NoError(t, s.DeleteTopic(context.Background(), "orders"))
		close(stop)
		returnsWithin(t, 5*time.Second, "a produce racing DeleteTopic", wg.Wait)
	}
	if err := unexpected.Load(); err != nil {
		t.Fatalf("a produce racing DeleteTopic failed with %v, want ErrUnknownTopic", *err)
	}
}

// A Producer holding records for a partition without a leader (its only
// replica's broker stopped) does not hold Close up for ever.
func TestReplicatedCloseWithAProducerWaitingForALeaderReturns(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 2)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 1})
	p, err := s.NewProducer(log.ProducerOptions{Linger: time.Hour})
	require.NoError(t, err)
	var got error
	done := make(chan struct{})
	p.Produce(context.Background(), &log.Record{Topic: "orders", Value: []byte("x")}, func(_ *log.Record, err error) {
		got = err
		close(done)
	})
	require.NoError(t, s.StopBroker(describe(t, s, "orders").Partitions[0].Leader)) // before the batch is written
	returnsWithin(t, 5*time.Second, "Store.Close", func() { require.NoError(t, s.Close()) })
	<-done
	require.Error(t, got)
}

// Produces (Store.Produce and a Producer, acks=all) race StopBroker and
// StartBroker of every broker in turn, CreateTopic and DeleteTopic of another
// topic, a consumer, and at last Close: nothing panics or races, and every record
// acknowledged is there after a reopen, in the order acknowledged.
func TestReplicatedProduceRacingBrokersAndTopicChanges(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	producer, err := s.NewProducer(log.ProducerOptions{})
	require.NoError(t, err)
	var mu sync.Mutex
	acked := map[int64]string{}
	ack := func(r *log.Record) {
		mu.Lock()
		defer mu.Unlock()
		acked[r.Offset] = string(r.Value)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: fmt.Appendf(nil, "p%d-%d", g, i)}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				if g == 0 {
					producer.Produce(ctx, r, func(r *log.Record, err error) {
						if err == nil {
							ack(r)
						}
					})
				} else if s.Produce(ctx, r) == nil {
					ack(r)
				}
				cancel()
			}
		})
	}
	wg.Go(func() {
		c, err := s.NewConsumer(log.ConsumerOptions{})
		if err != nil {
			return
		}
		defer c.Close()
		if c.Assign(tp("orders", 0)) != nil {
			return
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, _ = c.Poll(ctx)
			cancel()
		}
	})
	for round := range 12 {
		b := replica.BrokerID(round % 3)
		require.NoError(t, s.StopBroker(b))
		_ = s.CreateTopic(context.Background(), "other", log.TopicConfig{ReplicationFactor: 2})
		require.NoError(t, s.StartBroker(b))
		_ = s.DeleteTopic(context.Background(), "other")
		require.NoError(t, s.AwaitInSync(testContext(t)))
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	close(stop)
	returnsWithin(t, 10*time.Second, "the producers", wg.Wait)
	returnsWithin(t, 10*time.Second, "Close", func() { <-closed })

	s2 := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
	require.NoError(t, s2.AwaitInSync(testContext(t)))
	c, err := s2.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp("orders", 0)))
	end := describe(t, s2, "orders").Partitions[0].EndOffset
	got := map[int64]string{}
	for int64(len(got)) < end {
		for _, r := range pollN(t, c, 1) {
			got[r.Offset] = string(r.Value)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for offset, v := range acked {
		require.Equal(t, v, got[offset], "acknowledged record at offset %d", offset)
	}
	t.Logf("%d records acknowledged, %d in the log", len(acked), end)
}
