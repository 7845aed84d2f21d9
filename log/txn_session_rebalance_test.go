package log_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnGroupTransactSessionRevokedDuringTransactionAborts: a partition polled
// in a transaction and revoked before the transaction ends (the session polled
// again, which let the revocation go on, and the member rejoined in the next
// generation) goes to another member, which reads it from the group's committed
// offset; the session must not commit the output of those records (kgo's
// GroupTransactSession aborts after a revocation or a loss), or they are
// processed twice.
func TestTxnGroupTransactSessionRevokedDuringTransactionAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "in", log.TopicConfig{Partitions: 2})
		createTopic(t, s, "out", log.TopicConfig{Partitions: 1})
		produce(t, s, "in", 0, 3)
		produce(t, s, "in", 1, 3)
		opts := log.GroupConsumerOptions{Group: "copier", Topics: []string{"in"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second}
		session, err := s.NewGroupTransactSession(opts, log.ProducerOptions{TransactionalID: "copier-1", Linger: -1, TransactionTimeout: 5 * time.Minute})
		require.NoError(t, err)
		defer session.Close()
		synctest.Wait()
		require.Len(t, session.Consumer().Assignment(), 2)

		require.NoError(t, session.Begin())
		copied := map[log.TopicPartition][]string{}
		for len(copied) < 2 {
			records, err := session.Poll(ctx)
			require.NoError(t, err)
			for _, r := range records {
				tp := tp(r.Topic, r.Partition)
				copied[tp] = append(copied[tp], copyOf(r))
				require.NoError(t, session.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte(copyOf(r))}).FirstErr())
			}
		}

		opts.IsolationLevel = log.ReadCommitted
		opts.DisableAutoCommit = true
		joiner := newGroupConsumer(t, s, opts)
		defer joiner.Close()
		time.Sleep(time.Minute) // fake time: the rebalance waits for the session's next Poll
		synctest.Wait()
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		_, err = session.Poll(pollCtx) // still in the transaction: the revocation goes on
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
		synctest.Wait()
		require.Len(t, session.Consumer().Assignment(), 1)
		moved := joiner.Assignment()
		require.Len(t, moved, 1)

		_, err = session.End(ctx, true)
		if err != nil && !errors.Is(err, log.ErrTransactionAborted) {
			require.NoError(t, err)
		}

		pollCtx, cancel = context.WithTimeout(ctx, time.Second)
		defer cancel()
		records, err := joiner.Poll(pollCtx)
		require.NoError(t, err)
		output := readTxnValues(t, s, tp("out", 0), partition.ReadCommitted)
		for _, r := range records {
			value := copyOf(r)
			require.False(t, slices.Contains(output, value), "%s: committed by the session, and read again by the partition's new owner %v", value, moved)
		}
	})
}

// copyOf is the output of r: its partition and value.
func copyOf(r *log.Record) string {
	return fmt.Sprintf("copy of %s-%d %s", r.Topic, r.Partition, r.Value)
}
