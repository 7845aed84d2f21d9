package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratalog/strata/log"
)

// readCommittedValues reads topic's partition 0 as an in-process read_committed
// consumer, to its last stable offset.
func readCommittedValues(t testing.TB, store *log.Store, topic string) []string {
	t.Helper()
	c, err := store.NewConsumer(log.ConsumerOptions{IsolationLevel: log.ReadCommitted})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(log.TopicPartition{Topic: topic}))
	var values []string
	for {
		r, err := c.TryNext()
		require.NoError(t, err)
		if r == nil {
			return values
		}
		values = append(values, string(r.Value))
	}
}

// TestTxnKgoProducerCommitAndAbort: kgo's transactional producer (transaction
// version 2, as ApiVersions finalizes it) commits one transaction and aborts the
// next; read_committed readers see the first only.
func TestTxnKgoProducerCommitAndAbort(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "out", log.TopicConfig{Partitions: 1}))
	cl := ts.client(t, kgo.TransactionalID("kgo-txn"), kgo.DefaultProduceTopic("out"))
	for _, commit := range []bool{true, false} {
		require.NoError(t, cl.BeginTransaction())
		v := fmt.Sprint("commit ", commit)
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr())
		require.NoError(t, cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)))
	}
	require.Equal(t, []string{"commit true"}, readCommittedValues(t, ts.store, "out"))
	list, err := ts.store.ListTransactions()
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "kgo-txn", list[0].TransactionalID)
}
