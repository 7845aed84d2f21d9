package log_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// readPartition returns the values of tp's records at level, up to its end (or
// last stable offset).
func readTxnValues(t testing.TB, s *log.Store, tp log.TopicPartition, level partition.IsolationLevel) []string {
	t.Helper()
	p, err := log.TxnPartition(s, tp)
	require.NoError(t, err)
	r := p.NewReader(p.StartOffset(), 0)
	require.NoError(t, r.SetIsolationLevel(level))
	var values []string
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			return values
		}
		values = append(values, string(rec.Value))
	}
}

func newTxnProducer(t testing.TB, s *log.Store, id string) *log.Producer {
	t.Helper()
	p, err := s.NewProducer(log.ProducerOptions{TransactionalID: id, Linger: -1})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func produceTxn(t testing.TB, p *log.Producer, topic string, partitions int32, values ...string) {
	t.Helper()
	ctx := testContext(t)
	for i, v := range values {
		r := &log.Record{Topic: topic, Partition: int32(i) % partitions, ExplicitPartition: true, Value: []byte(v)}
		require.NoError(t, p.ProduceSync(ctx, r).FirstErr())
	}
}

func TestTxnProducerCommitAndAbortAcrossPartitions(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 2})
	p := newTxnProducer(t, s, "copier")

	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 2, "a0", "a1")
	require.NoError(t, p.CommitTransaction(ctx))

	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 2, "b0", "b1")
	require.NoError(t, p.AbortTransaction(ctx))

	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 2, "c0", "c1")
	// Open: read_committed stops before it, read_uncommitted sees it.
	for i, want := range [][]string{{"a0", "c0"}, {"a1", "c1"}} {
		tp := tp("out", int32(i))
		require.Equal(t, want[:1], readTxnValues(t, s, tp, partition.ReadCommitted), tp)
		require.Equal(t, []string{want[0], "b" + want[0][1:], want[1]}, readTxnValues(t, s, tp, partition.ReadUncommitted), tp)
	}
	require.NoError(t, p.CommitTransaction(ctx))
	for i, want := range [][]string{{"a0", "c0"}, {"a1", "c1"}} {
		require.Equal(t, want, readTxnValues(t, s, tp("out", int32(i)), partition.ReadCommitted))
	}
}

func TestTxnProducerNeedsATransaction(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1})
	p := newTxnProducer(t, s, "x")
	err := p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("v")}).FirstErr()
	require.ErrorIs(t, err, log.ErrNotInTransaction)
	require.ErrorIs(t, p.CommitTransaction(ctx), log.ErrNotInTransaction)
	require.NoError(t, p.BeginTransaction())
	require.ErrorIs(t, p.BeginTransaction(), log.ErrInvalidTxnState)
	// An empty transaction commits.
	require.NoError(t, p.CommitTransaction(ctx))

	plain, err := s.NewProducer(log.ProducerOptions{})
	require.NoError(t, err)
	defer plain.Close()
	require.ErrorIs(t, plain.BeginTransaction(), log.ErrNotTransactional)

	_, err = s.NewProducer(log.ProducerOptions{TransactionalID: "y", Acks: log.AcksLeader})
	require.ErrorIs(t, err, log.ErrInvalidConfig)
}

// A second producer with the same transactional id fences the first (a zombie)
// and aborts its open transaction; the zombie's later writes and commit fail.
func TestTxnZombieProducerIsFenced(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1})
	zombie := newTxnProducer(t, s, "copier")
	require.NoError(t, zombie.BeginTransaction())
	produceTxn(t, zombie, "out", 1, "zombie-0")

	fresh := newTxnProducer(t, s, "copier")
	err := zombie.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("zombie-1")}).FirstErr()
	require.ErrorIs(t, err, log.ErrProducerFenced)
	require.ErrorIs(t, zombie.CommitTransaction(ctx), log.ErrProducerFenced)
	require.ErrorIs(t, zombie.BeginTransaction(), log.ErrProducerFenced)

	require.NoError(t, fresh.BeginTransaction())
	produceTxn(t, fresh, "out", 1, "fresh-0")
	require.NoError(t, fresh.CommitTransaction(ctx))
	require.Equal(t, []string{"fresh-0"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))
}

// A transaction left open by a crash is aborted by its timeout; one decided
// commit is finished by the next Open.
func TestTxnTimeoutAbortsAndReopenKeepsCommits(t *testing.T) {
	ctx := testContext(t)
	fsys := vfs.NewMem()
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	opts := &log.Options{Now: clock, TransactionCheckInterval: -1}
	s := openStore(t, fsys, opts)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1})
	p, err := s.NewProducer(log.ProducerOptions{TransactionalID: "t", TransactionTimeout: time.Minute, Linger: -1})
	require.NoError(t, err)
	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 1, "committed")
	require.NoError(t, p.CommitTransaction(ctx))
	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 1, "open")
	require.Equal(t, []string{"committed"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))

	now = now.Add(2 * time.Minute)
	require.NoError(t, log.TickTransactions(ctx, s))
	require.Equal(t, []string{"committed"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))
	pp, err := log.TxnPartition(s, tp("out", 0))
	require.NoError(t, err)
	require.Equal(t, pp.EndOffset(), pp.LastStableOffset(), "the abort marker ended the transaction")
	require.ErrorIs(t, p.CommitTransaction(ctx), log.ErrProducerFenced)
	require.NoError(t, s.Close())

	s2 := openStore(t, fsys, opts)
	require.Equal(t, []string{"committed"}, readTxnValues(t, s2, tp("out", 0), partition.ReadCommitted))
}

// TestTxnPartitionsAddedInOneRequest: the partitions a transaction's records
// were buffered for are added to it together, in one write of the transaction
// state log: a transaction over four partitions writes three records there
// (Ongoing with the four, PrepareCommit, CompleteCommit).
func TestTxnPartitionsAddedInOneRequest(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 4})
	p, err := s.NewProducer(log.ProducerOptions{TransactionalID: "x", Linger: time.Hour})
	require.NoError(t, err)
	defer p.Close()
	state := tp(log.TransactionStateTopic, 0)
	before := endOffsetOf(t, s, state)
	require.NoError(t, p.BeginTransaction())
	for i := range int32(4) {
		p.Produce(ctx, &log.Record{Topic: "out", Partition: i, ExplicitPartition: true, Value: []byte("v")}, nil)
	}
	require.NoError(t, p.CommitTransaction(ctx))
	require.NoError(t, s.Sync(ctx)) // the completion is written unsynced
	require.Equal(t, before+3, endOffsetOf(t, s, state))
	for i := range int32(4) {
		require.Equal(t, []string{"v"}, readTxnValues(t, s, tp("out", i), partition.ReadCommitted))
	}
}

func endOffsetOf(t testing.TB, s *log.Store, tp log.TopicPartition) int64 {
	t.Helper()
	p, err := log.TxnPartition(s, tp)
	require.NoError(t, err)
	return p.EndOffset()
}

// TestTxnProduceAfterAFailedRecordFails: once a record of a transaction failed,
// the transaction can only abort, and later records fail at once rather than be
// written into it.
func TestTxnProduceAfterAFailedRecordFails(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1, MaxBatchBytes: 1024})
	p := newTxnProducer(t, s, "x")
	require.NoError(t, p.BeginTransaction())
	tooLarge := &log.Record{Topic: "out", Value: make([]byte, 4096)}
	require.ErrorIs(t, p.ProduceSync(ctx, tooLarge).FirstErr(), log.ErrRecordTooLarge)
	err := p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("after")}).FirstErr()
	require.ErrorIs(t, err, log.ErrRecordTooLarge, "the failure that makes the transaction abort-only")
	require.ErrorIs(t, p.CommitTransaction(ctx), log.ErrTransactionAborted)
	require.Empty(t, readTxnValues(t, s, tp("out", 0), partition.ReadUncommitted))
	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 1, "next")
	require.NoError(t, p.CommitTransaction(ctx))
	require.Equal(t, []string{"next"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))
}
