package replica

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
)

// TestTxnRetryAtTheNewLeaderIsADuplicate: a transactional producer's batches,
// acknowledged, then the leader fails. The new leader knows the producer's
// sequences and its open transaction from the batches it copied: a retry of the
// last batch, or of an earlier one, is answered with the original offsets and
// writes nothing; a gap and a stale epoch are refused; the next batch is written.
// After the marker (transaction version 2: the coordinator bumped the epoch), the
// producer's next transaction starts at the new epoch.
func TestTxnRetryAtTheNewLeaderIsADuplicate(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	require.Equal(t, int64(0), sc.produceTxn(p, txnProducer(4, 3, 0), "m0", "m1"))
	require.Equal(t, int64(2), sc.produceTxn(p, txnProducer(4, 3, 2), "m2"))
	sc.stop(0)
	require.Equal(t, BrokerID(1), p.State().Leader)
	sc.replicate()
	end := p.Replica(1).log.WrittenOffset()

	retry := txnProducer(4, 3, 2)
	offset, err := p.ProduceWith(t.Context(), sc.records("m2"), AcksAll, &retry)
	require.NoError(t, err, "the last batch again: a duplicate")
	require.Equal(t, int64(2), offset)
	retry = txnProducer(4, 3, 0)
	offset, err = p.ProduceWith(t.Context(), sc.records("m0", "m1"), AcksAll, &retry)
	require.NoError(t, err, "an earlier batch again: a duplicate")
	require.Equal(t, int64(0), offset)
	require.Equal(t, end, p.Replica(1).log.WrittenOffset(), "nothing written")

	_, err = sc.tryProduceTxn(p, txnProducer(4, 3, 5), "gap")
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence)
	_, err = sc.tryProduceTxn(p, txnProducer(4, 2, 0), "zombie")
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
	require.Equal(t, int64(3), sc.produceTxn(p, txnProducer(4, 3, 3), "m3"))
	require.Equal(t, map[BrokerID]int64{1: 0, 2: 0}, sc.checkStable(p))

	m := partition.TxnMarker{ProducerID: 4, ProducerEpoch: 4, Type: partition.MarkerCommit, TransactionVersion: 2}
	require.Equal(t, int64(4), sc.marker(p, m))
	require.Equal(t, map[BrokerID]int64{1: 5, 2: 5}, sc.checkStable(p))
	_, err = sc.tryProduceTxn(p, txnProducer(4, 3, 4), "late")
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch, "the bumped epoch fences the old one")
	require.Equal(t, int64(5), sc.produceTxn(p, txnProducer(4, 4, 0), "n0"))
	require.Equal(t, map[BrokerID]int64{1: 5, 2: 5}, sc.checkStable(p))

	sc.start(0)
	sc.replicate()
	want := []string{"0:m0", "1:m1", "2:m2", "3:m3"}
	for _, r := range p.sortedReplicas() {
		require.Equal(t, want, sc.committedValues(r), "broker %d", r.broker)
		require.Equal(t, int64(5), r.log.LastStableOffset(), "broker %d", r.broker)
	}
}

// TestTxnMarkerLeaderErrors: AppendTxnMarker fails as an acks=all produce does:
// on a follower ErrNotLeader, below min.insync.replicas ErrNotEnoughReplicas with
// nothing written, and ErrOutcomeUnknown once written but not acknowledged; the
// partition's refusals (a stale producer epoch, a fenced coordinator) write
// nothing.
func TestTxnMarkerLeaderErrors(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	sc.produceTxn(p, txnProducer(6, 1, 0), "x")

	_, err := p.Replica(1).AppendTxnMarker(t.Context(), commitOf(6, 1))
	require.ErrorIs(t, err, ErrNotLeader)
	_, err = sc.tryMarker(p, commitOf(6, 0))
	require.ErrorIs(t, err, partition.ErrInvalidProducerEpoch)
	fenced := commitOf(6, 1)
	fenced.CoordinatorEpoch = 2
	require.Equal(t, int64(1), sc.marker(p, fenced)) // the coordinator of epoch 2 commits
	_, err = sc.tryMarker(p, commitOf(6, 1))
	require.ErrorIs(t, err, partition.ErrTransactionCoordinatorFenced)
	require.Equal(t, int64(2), p.Replica(0).log.WrittenOffset(), "refusals write nothing")

	// Written, then the ISR falls below min.insync.replicas before the followers
	// copy it: the outcome is unknown.
	sc.produceTxn(p, txnProducer(6, 1, 1), "y")
	sc.net.Cut(0, 1, true)
	sc.net.Cut(0, 2, true)
	abort := abortOf(6, 1)
	abort.CoordinatorEpoch = 2
	_, err = sc.tryMarker(p, abort)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	sc.checkStable(p)
	sc.stop(1)
	sc.stop(2)
	_, err = sc.tryMarker(p, abort)
	require.ErrorIs(t, err, ErrNotEnoughReplicas)
}

// TestTxnRetriedMarkerEndsNothing: a marker whose outcome was unknown (written by
// the leader, copied by one follower, not acknowledged when the leader failed) is
// retried on the new leader, which has it already. The retry is no error: it is
// written again, as Kafka's leader writes it, and ends nothing; the replicas
// agree on the aborted transactions and what read_committed readers see.
func TestTxnRetriedMarkerEndsNothing(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	sc.produce(p, AcksAll, "a")
	sc.produceTxn(p, txnProducer(8, 0, 0), "x")
	offset, _, err := p.Replica(0).appendMarkerAsLeader(t.Context(), abortOf(8, 0))
	require.NoError(t, err)
	require.Equal(t, int64(2), offset)
	require.NoError(t, p.Replica(1).fetchOnce(t.Context(), 0)) // broker 1 copies it, broker 2 does not
	require.Equal(t, int64(2), p.Replica(0).log.HighWatermark())
	sc.checkStable(p)
	sc.stop(0)
	require.Equal(t, BrokerID(1), p.State().Leader)

	retried, err := sc.tryMarker(p, abortOf(8, 0))
	require.NoError(t, err, "a retried marker is no error")
	require.Equal(t, int64(3), retried, "written again")
	sc.start(0)
	sc.replicate()
	aborted := []partition.AbortedTxn{{ProducerID: 8, FirstOffset: 1, LastOffset: 2, LastStableOffset: 3}}
	for _, r := range p.sortedReplicas() {
		require.Equal(t, int64(4), r.log.LastStableOffset(), "broker %d", r.broker)
		require.Equal(t, aborted, r.log.AbortedTxns(0, 4), "broker %d: the retry ends nothing", r.broker)
		require.Equal(t, []string{"0:a"}, sc.committedValues(r), "broker %d", r.broker)
	}
	require.Equal(t, int64(4), sc.produceTxn(p, txnProducer(8, 0, 1), "y"), "the producer's next transaction")
	require.Equal(t, map[BrokerID]int64{0: 4, 1: 4, 2: 4}, sc.checkStable(p))
}
