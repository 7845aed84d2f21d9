package log_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// On a SyncEveryAppend topic, AcksLeader acknowledges at the write while the fsync
// is still running, and AcksDurable only after it; consumers see the records once
// the fsync completes.
func TestAcksLeaderDoesNotWaitForFsync(t *testing.T) {
	synctest.Test(t, testAcksLeader)
}

func testAcksLeader(t *testing.T) {
	var hold atomic.Bool
	release := make(chan struct{})
	fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpSync && strings.HasSuffix(path, ".log") && hold.Load() {
			<-release
		}
		return nil
	})
	s := openStore(t, fsys, nil)
	createTopic(t, s, "t", log.TopicConfig{})
	ctx := testContext(t)

	leader, err := s.NewProducer(log.ProducerOptions{Acks: log.AcksLeader, Linger: -1})
	require.NoError(t, err)
	durable, err := s.NewProducer(log.ProducerOptions{Linger: -1})
	require.NoError(t, err)

	hold.Store(true)
	got := newPromises()
	leader.Produce(ctx, &log.Record{Topic: "t", Value: []byte("leader")}, got.promise)
	require.NoError(t, leader.Flush(ctx), "acknowledged while the fsync is held")
	require.Equal(t, 1, got.count())
	require.NoError(t, got.errs[0])
	require.Equal(t, int64(0), got.records[0].Offset)

	durableDone := make(chan error, 1)
	durable.Produce(ctx, &log.Record{Topic: "t", Value: []byte("durable")}, func(_ *log.Record, err error) { durableDone <- err })
	synctest.Wait() // every goroutine is blocked: the durable write waits on its fsync
	select {
	case err := <-durableDone:
		t.Fatalf("AcksDurable acknowledged before its fsync (err %v)", err)
	default:
	}

	hold.Store(false)
	close(release)
	require.NoError(t, <-durableDone)

	consumer, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer consumer.Close()
	require.NoError(t, consumer.Assign(log.TopicPartition{Topic: "t"}))
	var values []string
	for len(values) < 2 {
		records, err := consumer.Poll(ctx)
		require.NoError(t, err)
		for _, r := range records {
			values = append(values, string(r.Value))
		}
	}
	require.Equal(t, []string{"leader", "durable"}, values)
}
