package log_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// maxTransactionTimeout is Options.MaxTransactionTimeout's default.
const maxTransactionTimeout = 15 * time.Minute

// txnAdminStore opens a store on a settable clock, without background
// transaction timeouts, with topic "out" of partitions partitions.
func txnAdminStore(t *testing.T, partitions int) (*log.Store, *storeClock) {
	t.Helper()
	clock := newStoreClock()
	s := openStore(t, vfs.NewMem(), &log.Options{Now: clock.Now, TransactionCheckInterval: -1})
	createTopic(t, s, "out", log.TopicConfig{Partitions: partitions})
	return s, clock
}

// appendUnknownTxn appends a transactional batch of producer id at epoch to tp
// directly, as a client the coordinator never heard of would: a transaction no
// coordinator will end. It returns the batch's first offset.
func appendUnknownTxn(t *testing.T, s *log.Store, tp log.TopicPartition, id int64, epoch int16, values ...string) int64 {
	t.Helper()
	p, err := log.TxnPartition(s, tp)
	require.NoError(t, err)
	records := make([]partition.Record, len(values))
	for i, v := range values {
		records[i] = partition.Record{Value: []byte(v)}
	}
	offset, err := p.AppendWith(testContext(t), records, &partition.AppendOptions{
		Producer: &partition.Producer{ID: id, Epoch: epoch, Transactional: true}})
	require.NoError(t, err)
	return offset
}

// TestTransactionAdminListDescribe: a committed, an aborted and an open
// transaction are listed and described by the coordinator's state, and
// DescribeProducers shows the open one's first offset in its partition.
func TestTransactionAdminListDescribe(t *testing.T) {
	ctx := testContext(t)
	s, clock := txnAdminStore(t, 2)
	start := clock.Now()

	// Before any transactional producer: nothing, and no coordinator is created.
	list, err := s.ListTransactions()
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = s.DescribeTransaction("committed")
	require.ErrorIs(t, err, log.ErrTransactionalIDNotFound)

	committed := newTxnProducer(t, s, "committed")
	require.NoError(t, committed.BeginTransaction())
	produceTxn(t, committed, "out", 2, "c0", "c1")
	require.NoError(t, committed.CommitTransaction(ctx))

	aborted := newTxnProducer(t, s, "aborted")
	require.NoError(t, aborted.BeginTransaction())
	produceTxn(t, aborted, "out", 1, "a0")
	require.NoError(t, aborted.AbortTransaction(ctx))

	clock.Advance(time.Minute)
	open := newTxnProducer(t, s, "open")
	require.NoError(t, open.BeginTransaction())
	produceTxn(t, open, "out", 2, "o0", "o1")

	list, err = s.ListTransactions()
	require.NoError(t, err)
	require.Len(t, list, 3)
	states := map[string]log.TransactionState{}
	for _, l := range list {
		require.EqualValues(t, 0, l.Coordinator, "a one-broker store's coordinator is broker 0")
		states[l.TransactionalID] = l.State
	}
	require.Equal(t, []string{"aborted", "committed", "open"}, []string{list[0].TransactionalID, list[1].TransactionalID, list[2].TransactionalID})
	require.Equal(t, map[string]string{"aborted": "CompleteAbort", "committed": "CompleteCommit", "open": "Ongoing"},
		map[string]string{"aborted": states["aborted"].String(), "committed": states["committed"].String(), "open": states["open"].String()})

	d, err := s.DescribeTransaction("open")
	require.NoError(t, err)
	require.Equal(t, "Ongoing", d.State.String())
	require.Equal(t, []log.TopicPartition{tp("out", 0), tp("out", 1)}, d.Partitions)
	require.Equal(t, list[2].ProducerID, d.ProducerID)
	require.Equal(t, log.DefaultTransactionTimeout, d.Timeout)
	require.True(t, d.StartTime.Equal(start.Add(time.Minute)), "start %v", d.StartTime)
	require.EqualValues(t, 0, d.Coordinator)

	d, err = s.DescribeTransaction("committed")
	require.NoError(t, err)
	require.Equal(t, "CompleteCommit", d.State.String())
	require.Empty(t, d.Partitions, "a completed transaction has none left")

	_, err = s.DescribeTransaction("nobody")
	require.ErrorIs(t, err, log.ErrTransactionalIDNotFound)

	// out-0: committed c0 (0), marker (1), aborted a0 (2), marker (3), open o0 (4).
	producers, err := s.DescribeProducers(tp("out", 0))
	require.NoError(t, err)
	first := map[int64]int64{}
	for _, p := range producers {
		first[p.ProducerID] = p.CurrentTxnFirstOffset
	}
	require.Equal(t, map[int64]int64{list[0].ProducerID: -1, list[1].ProducerID: -1, list[2].ProducerID: 4}, first)
	for _, p := range producers {
		if p.ProducerID == list[2].ProducerID {
			require.EqualValues(t, 0, p.LastSequence)
			require.Equal(t, clock.Now().UnixMilli(), p.LastTimestamp)
			require.EqualValues(t, -1, p.CoordinatorEpoch, "no marker of it yet")
		}
	}

	_, err = s.DescribeProducers(tp("out", 2))
	require.ErrorIs(t, err, log.ErrUnknownPartition)
	_, err = s.DescribeProducers(tp("nope", 0))
	require.ErrorIs(t, err, log.ErrUnknownTopic)

	require.NoError(t, open.CommitTransaction(ctx))
	producers, err = s.DescribeProducers(tp("out", 1))
	require.NoError(t, err)
	for _, p := range producers {
		require.EqualValues(t, -1, p.CurrentTxnFirstOffset, "producer %d", p.ProducerID)
	}

	require.NoError(t, s.Close())
	_, err = s.ListTransactions()
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.DescribeTransaction("open")
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.DescribeProducers(tp("out", 0))
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.FindHangingTransactions(0)
	require.ErrorIs(t, err, log.ErrClosed)
	require.ErrorIs(t, s.AbortTransaction(ctx, tp("out", 0), 1, 0, 0), log.ErrClosed)
}

// TestTxnFindAndAbortHangingTransaction: an open transaction the coordinator will
// never end (written without it, or to a partition the coordinator's completed
// transaction did not include) is found once older than the max transaction
// timeout, unlike an old transaction the coordinator has in progress; aborting it
// moves the partition's last stable offset to its end.
func TestTxnFindAndAbortHangingTransaction(t *testing.T) {
	ctx := testContext(t)
	s, clock := txnAdminStore(t, 3)

	// In progress with out-0, by the coordinator: old, but not hanging.
	live := newTxnProducer(t, s, "live")
	require.NoError(t, live.BeginTransaction())
	produceTxn(t, live, "out", 1, "live")

	// A producer id the coordinator never handed out, in out-1.
	const stranger int64 = 1 << 40
	hangingStart := appendUnknownTxn(t, s, tp("out", 1), stranger, 3, "h0", "h1")
	// A known producer whose transaction completed, in out-2, which that
	// transaction did not include (its marker there was lost).
	lost := newTxnProducer(t, s, "lost")
	require.NoError(t, lost.BeginTransaction())
	produceTxn(t, lost, "out", 1, "l0")
	require.NoError(t, lost.CommitTransaction(ctx))
	d, err := s.DescribeTransaction("lost")
	require.NoError(t, err)
	lostStart := appendUnknownTxn(t, s, tp("out", 2), d.ProducerID, d.ProducerEpoch, "l1")

	hanging, err := s.FindHangingTransactions(0)
	require.NoError(t, err)
	require.Empty(t, hanging, "younger than the max transaction timeout")

	clock.Advance(maxTransactionTimeout + time.Second)
	hanging, err = s.FindHangingTransactions(0)
	require.NoError(t, err)
	require.Len(t, hanging, 2, "%+v", hanging)
	h := hanging[0]
	require.Equal(t, tp("out", 1), h.TopicPartition)
	require.EqualValues(t, stranger, h.ProducerID)
	require.EqualValues(t, 3, h.ProducerEpoch)
	require.Equal(t, hangingStart, h.CurrentTxnFirstOffset)
	require.Equal(t, "", h.TransactionalID)
	require.Equal(t, maxTransactionTimeout+time.Second, h.Duration)
	require.Equal(t, tp("out", 2), hanging[1].TopicPartition)
	require.Equal(t, "lost", hanging[1].TransactionalID)
	require.Equal(t, lostStart, hanging[1].CurrentTxnFirstOffset)

	only, err := s.FindHangingTransactions(time.Hour)
	require.NoError(t, err)
	require.Empty(t, only, "a longer max age")
	only, err = s.FindHangingTransactions(0, "out")
	require.NoError(t, err)
	require.Equal(t, hanging, only)
	_, err = s.FindHangingTransactions(0, "nope")
	require.ErrorIs(t, err, log.ErrUnknownTopic)

	p1, err := log.TxnPartition(s, tp("out", 1))
	require.NoError(t, err)
	require.Equal(t, hangingStart, p1.LastStableOffset())
	require.Empty(t, readTxnValues(t, s, tp("out", 1), partition.ReadCommitted))

	// A stale epoch is refused, and nothing is written.
	err = s.AbortTransaction(ctx, tp("out", 1), stranger, 2, 0)
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
	require.Equal(t, hangingStart, p1.LastStableOffset())

	require.NoError(t, s.AbortTransaction(ctx, tp("out", 1), h.ProducerID, h.ProducerEpoch, max(h.CoordinatorEpoch, 0)))
	require.Equal(t, p1.EndOffset(), p1.LastStableOffset(), "the last stable offset moved to the end")
	require.Empty(t, readTxnValues(t, s, tp("out", 1), partition.ReadCommitted), "aborted")
	require.Equal(t, []string{"h0", "h1"}, readTxnValues(t, s, tp("out", 1), partition.ReadUncommitted))

	hanging, err = s.FindHangingTransactions(0)
	require.NoError(t, err)
	require.Len(t, hanging, 1)
	require.Equal(t, tp("out", 2), hanging[0].TopicPartition)

	// The live transaction is untouched, and still commits.
	require.NoError(t, live.CommitTransaction(ctx))
	require.Equal(t, []string{"live", "l0"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))

	err = s.AbortTransaction(ctx, tp("out", 3), 1, 0, 0)
	require.ErrorIs(t, err, log.ErrUnknownPartition)
}

// TestTxnAdminReplicatedThroughTheLeader: in a store of several brokers,
// DescribeProducers reads the leader's producer state and AbortTransaction
// writes its marker through the leader.
func TestTxnAdminReplicatedThroughTheLeader(t *testing.T) {
	ctx := testContext(t)
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1, ReplicationFactor: 3, MinInsyncReplicas: 2})
	start := appendUnknownTxn(t, s, tp("out", 0), 42, 0, "x")

	producers, err := s.DescribeProducers(tp("out", 0))
	require.NoError(t, err)
	require.Len(t, producers, 1)
	require.Equal(t, start, producers[0].CurrentTxnFirstOffset)

	require.NoError(t, s.AbortTransaction(ctx, tp("out", 0), 42, 0, 0))
	producers, err = s.DescribeProducers(tp("out", 0))
	require.NoError(t, err)
	require.EqualValues(t, -1, producers[0].CurrentTxnFirstOffset)
	require.EqualValues(t, 0, producers[0].CoordinatorEpoch)

	list, err := s.ListTransactions()
	require.NoError(t, err)
	require.Empty(t, list, "no transactional producer ever: no coordinator")
}
