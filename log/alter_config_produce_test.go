package log_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A produce that meets a partition AlterTopicConfig has closed to open it again
// with the new config waits for the new partition and writes there, as a Kafka
// producer never sees a config change, instead of failing with ErrPartitionOffline.
// Both ways to produce: Store.Produce and the async Producer (acks all and leader).
func TestAlterTopicConfigProduceWaitsForTheReopenedPartition(t *testing.T) {
	type produceFunc func(s *log.Store, rec *log.Record) error
	ways := map[string]produceFunc{
		"Store.Produce": func(s *log.Store, rec *log.Record) error {
			return s.Produce(context.Background(), rec)
		},
		"Producer/acks=all": func(s *log.Store, rec *log.Record) error {
			return produceThroughProducer(s, log.AcksAll, rec)
		},
		"Producer/acks=leader": func(s *log.Store, rec *log.Record) error {
			return produceThroughProducer(s, log.AcksLeader, rec)
		},
	}
	for name, produceOne := range ways {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var armed atomic.Bool
				release := make(chan struct{})
				// Once armed, opening the partition again (reading its directory)
				// waits: the old partition is closed, the new one not yet published.
				fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, path string) *vfs.Fault {
					if op == vfs.OpReadDir && armed.Load() && strings.Contains(path, "orders-0") {
						<-release
					}
					return nil
				})
				s := openStore(t, fsys, &log.Options{RetentionCheckInterval: -1})
				releaseOnce := sync.OnceFunc(func() { armed.Store(false); close(release) })
				t.Cleanup(releaseOnce) // before the store closes, should the test fail
				createTopic(t, s, "orders", log.TopicConfig{})
				produce(t, s, "orders", 0, 5)

				armed.Store(true)
				altered := make(chan error, 1)
				go func() {
					altered <- s.AlterTopicConfig(context.Background(), "orders", log.TopicConfig{SegmentBytes: 4096})
				}()
				synctest.Wait() // the partition closed, its replacement opening

				rec := &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: []byte("during")}
				produced := make(chan error, 1)
				go func() { produced <- produceOne(s, rec) }()
				synctest.Wait()
				select {
				case err := <-produced:
					t.Fatalf("the produce returned while the partition was being opened again: %v", err)
				default:
				}

				releaseOnce()
				require.NoError(t, <-altered)
				require.NoError(t, <-produced)
				require.EqualValues(t, 5, rec.Offset)
				got, err := readPartition(context.Background(), s, tp("orders", 0), 0, 6)
				require.NoError(t, err)
				require.Len(t, got, 6)
				require.Equal(t, "during", string(got[5].Value))
			})
		})
	}
}

// produceThroughProducer produces rec with a new Producer of the given acks and
// waits for its promise.
func produceThroughProducer(s *log.Store, acks log.Acks, rec *log.Record) error {
	p, err := s.NewProducer(log.ProducerOptions{Acks: acks, Linger: -1}) // written at once, during the reopen
	if err != nil {
		return err
	}
	defer p.Close()
	done := make(chan error, 1)
	p.Produce(context.Background(), rec, func(_ *log.Record, err error) { done <- err })
	return <-done
}
