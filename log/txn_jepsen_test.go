package log_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/txn"
	"github.com/stratalog/strata/vfs"
)

// The anomalies Jepsen found in Kafka and Kafka-compatible systems (Redpanda,
// Bufstream), each as a deterministic test of a one-broker store: an aborted
// read (G1a), a torn transaction, a duplicate from a retried produce, a lost
// write, a delayed commit of one transaction touching the next, and a zombie's
// records becoming visible.

// txnCrashOptions are the store options of the tests that crash a store: no
// background ticks (the test calls TickTransactions), clock now.
func txnCrashOptions(now *atomic.Int64) *log.Options {
	return &log.Options{
		Now:                      func() time.Time { return time.Unix(0, now.Load()) },
		TransactionCheckInterval: -1,
		RetentionCheckInterval:   -1,
	}
}

// reopenCrashed opens the store a power loss left of base, and closes it at the
// end of the test.
func reopenCrashed(t *testing.T, base *vfs.CrashableFS, mode vfs.CrashMode, seed int64, opts *log.Options) (*log.Store, *vfs.CrashableFS) {
	t.Helper()
	after := base.Crash(mode, seed)
	return openStore(t, after, opts), after
}

// requireNone checks that no value of tp read at level contains any of the
// substrings.
func requireNone(t *testing.T, s *log.Store, tp log.TopicPartition, level partition.IsolationLevel, substrings ...string) {
	t.Helper()
	for _, v := range readTxnValues(t, s, tp, level) {
		for _, sub := range substrings {
			require.NotContains(t, v, sub, "%s at %v", tp, level)
		}
	}
}

// TestTxnNoAbortedReadG1a: records of aborted transactions never reach a
// read_committed reader: not while the store runs, not after a crash and
// reopen, and not after compaction of a compacted topic where an aborted
// record is the latest of its key (the cleaner must drop it and keep the
// committed value it follows), nor after a crash after the compaction.
func TestTxnNoAbortedReadG1a(t *testing.T) {
	ctx := testContext(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	opts := txnCrashOptions(&now)
	base := vfs.NewCrashable()
	s := openStore(t, base, opts)
	createTopic(t, s, "plain", log.TopicConfig{Partitions: 2})
	createTopic(t, s, "changelog", log.TopicConfig{CleanupPolicy: log.CleanupCompact, SegmentBytes: 300, MinCleanableDirtyRatio: 0.01})
	p := newTxnProducer(t, s, "g1a")
	plain, err := s.NewProducer(log.ProducerOptions{Linger: -1})
	require.NoError(t, err)
	defer plain.Close()

	// Committed and aborted transactions interleave; in the changelog each
	// aborted transaction overwrites the keys the committed one before wrote.
	var committed []string
	for round := range 6 {
		commit := round%2 == 0
		status := "aborted"
		if commit {
			status = "committed"
		}
		require.NoError(t, p.BeginTransaction())
		for i := range 3 {
			key := fmt.Sprintf("k%d", i)
			v := fmt.Sprintf("%s=%s-%d", key, status, round)
			for _, r := range []*log.Record{
				{Topic: "plain", Partition: int32(i % 2), ExplicitPartition: true, Value: []byte(v)},
				{Topic: "changelog", Key: []byte(key), ExplicitPartition: true, Value: []byte(v)},
			} {
				require.NoError(t, p.ProduceSync(ctx, r).FirstErr())
			}
			if commit {
				committed = append(committed, v)
			}
		}
		// A plain record between transactions.
		require.NoError(t, plain.ProduceSync(ctx, &log.Record{Topic: "plain", ExplicitPartition: true, Value: fmt.Appendf(nil, "plain-%d", round)}).FirstErr())
		if commit {
			require.NoError(t, p.CommitTransaction(ctx))
		} else {
			require.NoError(t, p.AbortTransaction(ctx))
		}
	}
	// One more aborted transaction, left open: a crash aborts it (at its timeout).
	require.NoError(t, p.BeginTransaction())
	require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "changelog", Key: []byte("k0"), ExplicitPartition: true, Value: []byte("k0=aborted-open")}).FirstErr())

	check := func(t *testing.T, s *log.Store, stage string) {
		t.Helper()
		for _, tp := range []log.TopicPartition{tp("plain", 0), tp("plain", 1), tp("changelog", 0)} {
			requireNone(t, s, tp, partition.ReadCommitted, "aborted")
		}
		values := readTxnValues(t, s, tp("changelog", 0), partition.ReadCommitted)
		latest := map[string]string{}
		for _, v := range values {
			key, _, _ := strings.Cut(v, "=")
			latest[key] = v
		}
		require.Equal(t, map[string]string{"k0": "k0=committed-4", "k1": "k1=committed-4", "k2": "k2=committed-4"}, latest, stage)
		got := append(readTxnValues(t, s, tp("plain", 0), partition.ReadCommitted), readTxnValues(t, s, tp("plain", 1), partition.ReadCommitted)...)
		for _, v := range committed {
			require.Contains(t, got, v, stage)
		}
	}
	check(t, s, "running")

	// Crash: the open transaction is left open, then aborted by its timeout.
	s2, fs2 := reopenCrashed(t, base, vfs.DropUnsynced, 1, opts)
	check(t, s2, "after a crash")
	now.Add(int64(2 * time.Minute))
	require.NoError(t, log.TickTransactions(ctx, s2))
	check(t, s2, "after the timeout")
	lso, err := log.TxnPartition(s2, tp("changelog", 0))
	require.NoError(t, err)
	require.Equal(t, lso.EndOffset(), lso.LastStableOffset(), "every transaction ended")

	res, err := s2.CompactPartition(ctx, tp("changelog", 0))
	require.NoError(t, err)
	require.True(t, res.Compacted && res.RecordsRemoved > 0, "the compaction removed records: %+v", res)
	check(t, s2, "after compaction")
	require.NoError(t, s2.Close())
	s3, _ := reopenCrashed(t, fs2, vfs.KeepPrefix, 2, opts)
	check(t, s3, "after compaction and a crash")
}

// tornTransaction runs one transaction over two topics (a: 2 partitions, b: 1),
// each partition getting one record "<tag>-<partition>", and commits it.
func tornTransaction(ctx context.Context, p *log.Producer, tag string) error {
	if err := p.BeginTransaction(); err != nil {
		return err
	}
	for _, r := range []*log.Record{
		{Topic: "a", Partition: 0, ExplicitPartition: true, Value: []byte(tag + "-a0")},
		{Topic: "a", Partition: 1, ExplicitPartition: true, Value: []byte(tag + "-a1")},
		{Topic: "b", Partition: 0, ExplicitPartition: true, Value: []byte(tag + "-b0")},
	} {
		if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
			return err
		}
	}
	return p.CommitTransaction(ctx)
}

// tornVisible returns in how many of the transaction's three partitions a
// read_committed reader sees its record.
func tornVisible(t *testing.T, s *log.Store, tag string) int {
	t.Helper()
	n := 0
	for _, tp := range []log.TopicPartition{tp("a", 0), tp("a", 1), tp("b", 0)} {
		want := fmt.Sprintf("%s-%s%d", tag, tp.Topic, tp.Partition)
		for _, v := range readTxnValues(t, s, tp, partition.ReadCommitted) {
			if v == want {
				n++
			}
		}
	}
	return n
}

// TestTxnNoTornTransactionWhenASecondMarkerFails: the COMMIT marker of a
// transaction over three partitions of two topics cannot be written to the
// last one (its disk fails): CommitTransaction still succeeds (the decision is
// durable), and after the crash and reopen the coordinator finishes it: the
// transaction is visible in all three partitions.
func TestTxnNoTornTransactionWhenASecondMarkerFails(t *testing.T) {
	ctx := testContext(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	opts := txnCrashOptions(&now)
	base := vfs.NewCrashable()
	var faults vfs.Switch
	s, err := log.Open("/data", &log.Options{FS: vfs.NewFaulty(base, faults.Inject), Now: opts.Now, TransactionCheckInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	createTopic(t, s, "a", log.TopicConfig{Partitions: 2})
	createTopic(t, s, "b", log.TopicConfig{Partitions: 1})
	p := newTxnProducer(t, s, "torn")
	require.NoError(t, tornTransaction(ctx, p, "t1"))
	require.Equal(t, 3, tornVisible(t, s, "t1"))

	require.NoError(t, p.BeginTransaction())
	produceTxnTo(t, p, "t2")
	faults.Set(vfs.Match("/b-0/", vfs.FailOp(vfs.OpWrite, syscall.EIO)))
	require.NoError(t, p.CommitTransaction(ctx), "the decision is durable")
	md, err := log.TxnCoordinator(s).Describe("torn")
	require.NoError(t, err)
	require.Equal(t, txn.PrepareCommit, md.State, "the marker to b-0 is still to write")
	// The store dies; the machine loses what was not fsynced.
	s2, _ := reopenCrashed(t, base, vfs.DropUnsynced, 3, opts)
	require.Equal(t, 3, tornVisible(t, s2, "t2"), "finished by Open: committed everywhere")
	md, err = log.TxnCoordinator(s2).Describe("torn")
	require.NoError(t, err)
	require.Equal(t, txn.CompleteCommit, md.State)
	for _, tp := range []log.TopicPartition{tp("a", 0), tp("a", 1), tp("b", 0)} {
		pp, err := log.TxnPartition(s2, tp)
		require.NoError(t, err)
		require.Equal(t, pp.EndOffset(), pp.LastStableOffset(), tp)
	}
}

func produceTxnTo(t *testing.T, p *log.Producer, tag string) {
	t.Helper()
	ctx := testContext(t)
	for _, r := range []*log.Record{
		{Topic: "a", Partition: 0, ExplicitPartition: true, Value: []byte(tag + "-a0")},
		{Topic: "a", Partition: 1, ExplicitPartition: true, Value: []byte(tag + "-a1")},
		{Topic: "b", Partition: 0, ExplicitPartition: true, Value: []byte(tag + "-b0")},
	} {
		require.NoError(t, p.ProduceSync(ctx, r).FirstErr())
	}
}

// TestTxnNoTornTransactionAtEveryCrashPoint: the process dies after each file
// system operation of a CommitTransaction in turn (before the decision is
// stored, between it and the markers, between markers, before the completion),
// and the machine loses what was not fsynced. After reopen, and after the
// transaction timeout, a read_committed reader sees the transaction in all three
// partitions or in none, and in all if CommitTransaction had returned nil.
func TestTxnNoTornTransactionAtEveryCrashPoint(t *testing.T) {
	modes := []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix, vfs.TearZeros, vfs.TearGarbage}
	seenBoth := map[int]bool{}
	for limit := int64(0); ; limit++ {
		ctx := testContext(t)
		var now atomic.Int64
		now.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
		opts := txnCrashOptions(&now)
		base := vfs.NewCrashable()
		var faults vfs.Switch
		s, err := log.Open("/data", &log.Options{FS: vfs.NewFaulty(base, faults.Inject), Now: opts.Now, TransactionCheckInterval: -1})
		require.NoError(t, err)
		createTopic(t, s, "a", log.TopicConfig{Partitions: 2})
		createTopic(t, s, "b", log.TopicConfig{Partitions: 1})
		p, err := s.NewProducer(log.ProducerOptions{TransactionalID: "torn", Linger: -1})
		require.NoError(t, err)
		require.NoError(t, p.BeginTransaction())
		produceTxnTo(t, p, "t")
		stop := &stopAfter{limit: limit}
		faults.Set(stop.inject)
		commitErr := p.CommitTransaction(ctx)
		finished := commitErr == nil && stop.count.Load() <= limit
		p.Close()
		s.Close() // the process died: nothing more reaches the disk

		mode := modes[int(limit)%len(modes)]
		t.Run(fmt.Sprintf("stop-after-%d-%v", limit, mode), func(t *testing.T) {
			s2, _ := reopenCrashed(t, base, mode, limit, opts)
			visible := tornVisible(t, s2, "t")
			require.Contains(t, []int{0, 3}, visible, "all or none")
			if commitErr == nil {
				require.Equal(t, 3, visible, "CommitTransaction returned nil")
			}
			now.Add(int64(2 * time.Minute))
			require.NoError(t, log.TickTransactions(ctx, s2))
			require.Equal(t, visible, tornVisible(t, s2, "t"), "the timeout changes nothing decided")
			for _, tp := range []log.TopicPartition{tp("a", 0), tp("a", 1), tp("b", 0)} {
				pp, err := log.TxnPartition(s2, tp)
				require.NoError(t, err)
				require.Equal(t, pp.EndOffset(), pp.LastStableOffset(), "%s: the transaction ended", tp)
			}
			seenBoth[visible] = true
			// The next instance commits its own transaction.
			p2 := newTxnProducer(t, s2, "torn")
			require.NoError(t, tornTransaction(ctx, p2, "next"))
			require.Equal(t, 3, tornVisible(t, s2, "next"))
		})
		if finished {
			require.True(t, seenBoth[0] && seenBoth[3], "crash points before and after the decision")
			return
		}
	}
}

// TestTxnNoDuplicateFromRetriedProduce: a batch whose fsync fails after it was
// written has an unknown outcome (it may survive a crash, or not).
//
//   - idempotent: in a store of two brokers the producer retries it through the
//     new leader, which recognises its sequence: the record is in the log once.
//   - transactional, three brokers: the same, inside a transaction, which
//     then commits: each record once, at both isolation levels.
//   - transactional, one broker: the transaction cannot commit (it aborts); the
//     store crashes, and the application's next instance produces the same
//     records again in a new transaction: read_committed readers see each once,
//     whether or not the first attempt survived the crash.
func TestTxnNoDuplicateFromRetriedProduce(t *testing.T) {
	t.Run("idempotent", func(t *testing.T) {
		_, err, values := produceThroughALeaderFsyncFailure(t, log.ProducerOptions{Linger: -1})
		require.NoError(t, err, "retried through the new leader")
		require.Equal(t, []string{"first", "second"}, values, "written once")
	})
	t.Run("transactional-new-leader", txnRetryThroughANewLeader)
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix} {
		t.Run("transactional-"+mode.String(), func(t *testing.T) {
			ctx := testContext(t)
			base := vfs.NewCrashable()
			var faults vfs.Switch
			s, err := log.Open("/data", &log.Options{FS: vfs.NewFaulty(base, faults.Inject), TransactionCheckInterval: -1})
			require.NoError(t, err)
			defer s.Close()
			createTopic(t, s, "out", log.TopicConfig{})
			p := newTxnProducer(t, s, "retry")
			require.NoError(t, p.BeginTransaction())
			produceTxn(t, p, "out", 1, "first")
			var syncs atomic.Int32
			faults.Set(func(op vfs.Op, path string) *vfs.Fault {
				if op == vfs.OpSync && strings.Contains(path, "/out-0/") && strings.HasSuffix(path, ".log") && syncs.Add(1) == 1 {
					return &vfs.Fault{Err: syscall.EIO}
				}
				return nil
			})
			err = p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("second")}).FirstErr()
			require.ErrorIs(t, err, log.ErrOutcomeUnknown)
			require.ErrorIs(t, p.CommitTransaction(ctx), log.ErrTransactionAborted)

			s2, _ := reopenCrashed(t, base, mode, 4, nil)
			require.Empty(t, readTxnValues(t, s2, tp("out", 0), partition.ReadCommitted))
			retry := newTxnProducer(t, s2, "retry")
			require.NoError(t, retry.BeginTransaction())
			produceTxn(t, retry, "out", 1, "first", "second")
			require.NoError(t, retry.CommitTransaction(ctx))
			require.Equal(t, []string{"first", "second"}, readTxnValues(t, s2, tp("out", 0), partition.ReadCommitted), "each once")
		})
	}
}

// TestIdempotentProducerGoesOnAfterFsyncFailureAndRepair: in a store of one
// broker a batch whose fsync failed has an unknown outcome, and its partition
// fails closed (a sticky error: it refuses everything until reopened).
// RepairPartition reopens it from its files, and the same idempotent producer
// goes on: the failed record is in the log at most once, the next one once.
func TestIdempotentProducerGoesOnAfterFsyncFailureAndRepair(t *testing.T) {
	ctx := testContext(t)
	var faults vfs.Switch
	s := openStore(t, vfs.NewFaulty(vfs.NewMem(), faults.Inject), nil)
	createTopic(t, s, "out", log.TopicConfig{})
	p, err := s.NewProducer(log.ProducerOptions{Linger: -1})
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("first")}).FirstErr())
	var syncs atomic.Int32
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpSync && strings.Contains(path, "/out-0/") && strings.HasSuffix(path, ".log") && syncs.Add(1) == 1 {
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	})
	err = p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("second")}).FirstErr()
	require.ErrorIs(t, err, log.ErrOutcomeUnknown)
	faults.Set(nil)

	_, err = s.RepairPartition(ctx, tp("out", 0), nil)
	require.NoError(t, err)
	require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "out", Value: []byte("third")}).FirstErr(),
		"the repaired partition takes writes again")
	values := readTxnValues(t, s, tp("out", 0), partition.ReadUncommitted)
	count := map[string]int{}
	for _, v := range values {
		count[v]++
	}
	require.Equal(t, 1, count["first"], "%q", values)
	require.LessOrEqual(t, count["second"], 1, "%q", values)
	require.Equal(t, 1, count["third"], "%q", values)
}

// txnRetryThroughANewLeader produces "first" then "second" in a transaction to
// a topic of two replicas in a store of three brokers (so that the transaction
// state topic keeps two in-sync replicas when one broker's disk fails), whose
// leader fails the fsync of "second" once its follower has copied it: the
// producer retries through the new leader, which recognises the batch.
func txnRetryThroughANewLeader(t *testing.T) {
	ctx := testContext(t)
	fault, s := openLeaderFsyncFault(t, 3, log.Options{TransactionCheckInterval: -1})
	p := newTxnProducer(t, s, "retry")
	require.NoError(t, p.BeginTransaction())
	require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "orders", Value: []byte("first"), ExplicitPartition: true}).FirstErr())
	leader := fault.arm(t, s)
	require.NoError(t, p.ProduceSync(ctx, &log.Record{Topic: "orders", Value: []byte("second"), ExplicitPartition: true}).FirstErr(),
		"retried through the new leader")
	require.NotEqual(t, leader, describe(t, s, "orders").Partitions[0].Leader, "acknowledged by a new leader")
	require.NoError(t, p.CommitTransaction(ctx))
	// The COMMIT marker is stable once the follower holds it too (the high
	// watermark passes it): a read_committed reader waits for it.
	pp, err := log.TxnPartition(s, tp("orders", 0))
	require.NoError(t, err)
	r := pp.NewReader(pp.StartOffset(), 0)
	require.NoError(t, r.SetIsolationLevel(partition.ReadCommitted))
	for _, want := range []string{"first", "second"} {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, want, string(rec.Value))
	}
	for _, level := range []partition.IsolationLevel{partition.ReadUncommitted, partition.ReadCommitted} {
		require.Equal(t, []string{"first", "second"}, readTxnValues(t, s, tp("orders", 0), level), "written once, %v", level)
	}
}

// TestTxnNoLostWriteAfterCommit: every record of a transaction whose
// CommitTransaction returned nil survives a power loss right after, in every
// crash mode, and is visible to read_committed readers after the reopen.
func TestTxnNoLostWriteAfterCommit(t *testing.T) {
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix, vfs.TearZeros, vfs.TearGarbage} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := testContext(t)
			base := vfs.NewCrashable()
			s := openStore(t, base, &log.Options{TransactionCheckInterval: -1})
			createTopic(t, s, "a", log.TopicConfig{Partitions: 2})
			createTopic(t, s, "b", log.TopicConfig{Partitions: 1})
			p := newTxnProducer(t, s, "lost")
			for round := range 5 {
				tag := fmt.Sprintf("r%d", round)
				require.NoError(t, tornTransaction(ctx, p, tag))
				s2, _ := reopenCrashed(t, base, mode, int64(round), &log.Options{TransactionCheckInterval: -1})
				for r := 0; r <= round; r++ {
					require.Equal(t, 3, tornVisible(t, s2, fmt.Sprintf("r%d", r)), "round %d after a crash after round %d", r, round)
				}
				require.NoError(t, s2.Close())
			}
		})
	}
}

// TestTxnDelayedEndTxnCannotTouchNextTransaction (Bufstream's finding, which
// KIP-890 fixes): transaction N commits and N+1 begins; a delayed copy of N's
// EndTxn arrives at the coordinator, and a delayed copy of N's marker at a
// partition. Both are refused: N+1 stays open (its records invisible to
// read_committed readers), and aborting it leaves them invisible for good.
func TestTxnDelayedEndTxnCannotTouchNextTransaction(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t, vfs.NewMem(), &log.Options{TransactionCheckInterval: -1})
	createTopic(t, s, "out", log.TopicConfig{Partitions: 1})
	p := newTxnProducer(t, s, "bufstream")
	c := log.TxnCoordinator(s)
	require.NotNil(t, c)

	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 1, "n")
	before, err := c.Describe("bufstream")
	require.NoError(t, err)
	nProducer := txn.ProducerIDAndEpoch{ProducerID: before.ProducerID, ProducerEpoch: before.ProducerEpoch}
	require.NoError(t, p.CommitTransaction(ctx))
	afterN, err := c.Describe("bufstream")
	require.NoError(t, err)
	require.Equal(t, nProducer.ProducerEpoch+1, afterN.ProducerEpoch, "the end bumps the epoch")
	nMarkerEpoch := afterN.ProducerEpoch // N's markers carry the bumped epoch

	require.NoError(t, p.BeginTransaction())
	produceTxn(t, p, "out", 1, "n+1")
	open, err := c.Describe("bufstream")
	require.NoError(t, err)
	require.Equal(t, txn.Ongoing, open.State)
	pp, err := log.TxnPartition(s, tp("out", 0))
	require.NoError(t, err)
	lso, end := pp.LastStableOffset(), pp.EndOffset()
	require.Equal(t, end-1, lso, "n+1 holds the last stable offset")

	// N's EndTxn again, commit or abort: refused, N+1 unaffected.
	for _, commit := range []bool{true, false} {
		_, err := c.EndTxn(ctx, "bufstream", nProducer, commit)
		require.ErrorIs(t, err, txn.ErrProducerFenced, "commit=%v", commit)
		md, err := c.Describe("bufstream")
		require.NoError(t, err)
		require.Equal(t, open.State, md.State)
		require.Equal(t, open.ProducerEpoch, md.ProducerEpoch)
		require.Equal(t, open.Partitions, md.Partitions)
	}
	// N's marker written late, with its own epoch or N's batches' epoch: the
	// partition refuses it; nothing is written.
	for _, epoch := range []int16{nMarkerEpoch, nProducer.ProducerEpoch} {
		for _, typ := range []partition.MarkerType{partition.MarkerCommit, partition.MarkerAbort} {
			_, err := pp.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: nProducer.ProducerID, ProducerEpoch: epoch, Type: typ, TransactionVersion: 2})
			require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch, "epoch %d type %d", epoch, typ)
			require.Equal(t, lso, pp.LastStableOffset())
			require.Equal(t, end, pp.EndOffset())
		}
	}
	require.Equal(t, []string{"n"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))

	require.NoError(t, p.AbortTransaction(ctx))
	require.Equal(t, []string{"n"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted), "n+1 aborted")
	// And a delayed EndTxn of N+1's epoch, now that it ended by abort, cannot commit it.
	_, err = c.EndTxn(ctx, "bufstream", txn.ProducerIDAndEpoch{ProducerID: open.ProducerID, ProducerEpoch: open.ProducerEpoch}, true)
	require.Error(t, err)
	require.Equal(t, []string{"n"}, readTxnValues(t, s, tp("out", 0), partition.ReadCommitted))
}

// TestTxnZombieOpenTransactionIsAbortedByTheNewInstance: a zombie's
// transaction is open over two partitions when the new instance starts: its
// InitProducerID aborts the transaction, and the zombie's records are never
// visible to read_committed readers: not after it tries to go on and commit, not
// after the new instance commits its own, not after a crash.
func TestTxnZombieOpenTransactionIsAbortedByTheNewInstance(t *testing.T) {
	ctx := testContext(t)
	base := vfs.NewCrashable()
	opts := &log.Options{TransactionCheckInterval: -1}
	s := openStore(t, base, opts)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 2})
	zombie := newTxnProducer(t, s, "copier")
	require.NoError(t, zombie.BeginTransaction())
	produceTxn(t, zombie, "out", 2, "zombie-0", "zombie-1")

	fresh := newTxnProducer(t, s, "copier")
	md, err := log.TxnCoordinator(s).Describe("copier")
	require.NoError(t, err)
	require.Equal(t, txn.Empty, md.State, "the zombie's transaction ended before the new instance got its epoch")
	for i := range int32(2) {
		pp, err := log.TxnPartition(s, tp("out", i))
		require.NoError(t, err)
		require.Equal(t, pp.EndOffset(), pp.LastStableOffset(), "the abort marker is written")
		require.Empty(t, readTxnValues(t, s, tp("out", i), partition.ReadCommitted))
		require.Equal(t, []string{fmt.Sprintf("zombie-%d", i)}, readTxnValues(t, s, tp("out", i), partition.ReadUncommitted))
	}

	// The zombie goes on: everything it does is refused.
	err = zombie.ProduceSync(ctx, &log.Record{Topic: "out", Partition: 1, ExplicitPartition: true, Value: []byte("zombie-2")}).FirstErr()
	require.ErrorIs(t, err, log.ErrProducerFenced)
	require.ErrorIs(t, zombie.CommitTransaction(ctx), log.ErrProducerFenced)
	require.ErrorIs(t, zombie.AbortTransaction(ctx), log.ErrProducerFenced)

	require.NoError(t, fresh.BeginTransaction())
	produceTxn(t, fresh, "out", 2, "fresh-0", "fresh-1")
	require.NoError(t, fresh.CommitTransaction(ctx))
	check := func(s *log.Store) {
		t.Helper()
		for i := range int32(2) {
			require.Equal(t, []string{fmt.Sprintf("fresh-%d", i)}, readTxnValues(t, s, tp("out", i), partition.ReadCommitted))
			requireNone(t, s, tp("out", i), partition.ReadUncommitted, "zombie-2")
		}
	}
	check(s)
	s2, _ := reopenCrashed(t, base, vfs.DropUnsynced, 5, opts)
	check(s2)
}
