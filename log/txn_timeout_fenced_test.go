package log_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTxnTimedOutTransactionFencesTheProducer: a transaction the coordinator
// aborts at its timeout fences its producer (KIP-890 bumps the epoch past it):
// CommitTransaction returns ErrProducerFenced, not ErrTransactionAborted, and
// nothing of the transaction is visible to read_committed readers.
func TestTxnTimedOutTransactionFencesTheProducer(t *testing.T) {
	ctx := testContext(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	s := openStore(t, vfs.NewMem(), txnCrashOptions(&now))
	createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
	p, err := s.NewProducer(log.ProducerOptions{TransactionalID: "slow", TransactionTimeout: time.Minute, Linger: -1})
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.BeginTransaction())
	require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "t", Value: []byte("late")}).FirstErr())
	now.Add(int64(2 * time.Minute))
	require.NoError(t, log.TickTransactions(ctx, s))

	err = p.CommitTransaction(ctx)
	require.ErrorIs(t, err, log.ErrProducerFenced)
	require.NotErrorIs(t, err, log.ErrTransactionAborted)
	require.ErrorIs(t, p.BeginTransaction(), log.ErrProducerFenced, "fenced for good")
	require.Empty(t, readTxnValues(t, s, tp("t", 0), partition.ReadCommitted))
}
