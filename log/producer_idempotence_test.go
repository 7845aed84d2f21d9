package log_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
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
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	var (
		copiedOnce sync.Once
		copied     = make(chan struct{})
		armed      = make(chan struct{})
	)
	opts := &log.Options{Hooks: log.Hooks{OnFsync: func(e log.FsyncEvent) {
		select {
		case <-armed:
			// The leader's fsync is held below: this one is the follower's,
			// which has copied the batch.
			if e.TopicPartition == tp("orders", 0) {
				copiedOnce.Do(func() { close(copied) })
			}
		default:
		}
	}}}
	brokers := map[replica.BrokerID]string{0: "", 1: ""}
	require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
	require.NoError(t, log.InitBrokers(fsys, "/data", brokers))
	s := openStore(t, fsys, opts)
	defer s.Close()
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 2, MinInsyncReplicas: 1})
	p, err := s.NewProducer(log.ProducerOptions{Linger: -1})
	require.NoError(t, err)
	defer p.Close()
	first := &log.Record{Topic: "orders", Value: []byte("first"), ExplicitPartition: true}
	require.NoError(t, produceOne(t, p, first))

	leader := describe(t, s, "orders").Partitions[0].Leader
	infos, err := s.Brokers()
	require.NoError(t, err)
	leaderDir := filepath.Join(infos[leader].Dir, "orders-0")
	var failOnce sync.Once
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		if op != vfs.OpSync || !strings.HasPrefix(path, leaderDir+"/") || !strings.HasSuffix(path, ".log") {
			return nil
		}
		var fault *vfs.Fault
		failOnce.Do(func() {
			<-copied // the follower holds the batch
			fault = &vfs.Fault{Err: syscall.EIO}
		})
		return fault
	})
	close(armed)
	second := &log.Record{Topic: "orders", Value: []byte("second"), ExplicitPartition: true}
	require.NoError(t, produceOne(t, p, second))
	require.Equal(t, int64(1), second.Offset)
	require.NotEqual(t, leader, describe(t, s, "orders").Partitions[0].Leader, "the leader moved")
	require.Equal(t, []string{"first", "second"}, consumeValues(t, s, "orders", 0), "written once")
}
