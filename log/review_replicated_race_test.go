package log_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
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
