package replica

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
)

// The transaction scenarios of issue 14 with replicas: markers and producer state
// replicate with the log, a new leader knows every producer's transactions and
// sequences, and the last stable offset never passes the high watermark, nor a
// transaction whose marker the high watermark does not cover.

// TestTxnCommittedAndAbortedReplicate: a committed and an aborted transaction,
// interleaved, through the leader's public API (ProduceWith with transactional
// producers, AppendTxnMarker): every follower holds the markers and agrees with
// the leader on the aborted transactions, the last stable offset and what a
// read_committed reader returns.
func TestTxnCommittedAndAbortedReplicate(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	sc.produce(p, AcksAll, "a")
	require.Equal(t, int64(1), sc.produceTxn(p, txnProducer(1, 0, 0), "t1-0", "t1-1"))
	require.Equal(t, int64(3), sc.produceTxn(p, txnProducer(2, 0, 0), "t2-0"))
	require.Equal(t, map[BrokerID]int64{0: 1, 1: 1, 2: 1}, sc.checkStable(p), "both open: stable below the first")

	require.Equal(t, int64(4), sc.marker(p, commitOf(1, 0)))
	require.Equal(t, map[BrokerID]int64{0: 3, 1: 3, 2: 3}, sc.checkStable(p), "transaction 2 still open")
	require.Equal(t, int64(5), sc.produceTxn(p, txnProducer(2, 0, 1), "t2-1"))
	require.Equal(t, int64(6), sc.marker(p, abortOf(2, 0)))
	sc.produce(p, AcksAll, "b")
	require.Equal(t, map[BrokerID]int64{0: 8, 1: 8, 2: 8}, sc.checkStable(p))

	aborted := []partition.AbortedTxn{{ProducerID: 2, FirstOffset: 3, LastOffset: 6, LastStableOffset: 7}}
	for _, r := range p.sortedReplicas() {
		require.Equal(t, int64(8), r.log.HighWatermark(), "broker %d", r.broker)
		require.Equal(t, aborted, r.log.AbortedTxns(0, 8), "broker %d", r.broker)
		require.Equal(t, []string{"0:a", "1:t1-0", "2:t1-1", "7:b"}, sc.committedValues(r), "broker %d", r.broker)
		require.Equal(t, logBytes(t, p.Replica(0)), logBytes(t, r), "broker %d: the markers replicate as written", r.broker)
	}
}

// TestTxnOpenTransactionSurvivesLeaderFailover: a transaction is open when the
// leader fails, its last batch written by the leader alone. The new leader,
// which copied the first batch, knows the transaction open: its last stable
// offset stays below it, across its own writes, until the coordinator's retried
// marker ends it. The producer's retry of its last batch goes to the new leader.
// The old leader, back as a follower, truncates its copy of that batch (reopening
// nothing it should not) and agrees with the new leader on everything.
func TestTxnOpenTransactionSurvivesLeaderFailover(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	sc.produce(p, AcksAll, "a")
	require.Equal(t, int64(1), sc.produceTxn(p, txnProducer(5, 0, 0), "x"))
	sc.produce(p, AcksAll, "b")
	require.Equal(t, map[BrokerID]int64{0: 1, 1: 1, 2: 1}, sc.checkStable(p))

	// The transaction's second batch reaches the leader only.
	y := txnProducer(5, 0, 1)
	base, _, _, err := p.Replica(0).appendAsLeaderWith(t.Context(), sc.records("y"), AcksLeader, &y)
	require.NoError(t, err)
	require.Equal(t, int64(3), base)
	require.Equal(t, int64(3), p.Replica(0).log.HighWatermark())
	sc.checkStable(p)

	sc.stop(0)
	require.Equal(t, BrokerID(1), p.State().Leader)
	sc.replicate()
	require.Equal(t, map[BrokerID]int64{1: 1, 2: 1}, sc.checkStable(p), "the new leader knows the transaction open")
	sc.produce(p, AcksAll, "c")
	require.Equal(t, int64(4), p.Replica(1).log.HighWatermark())
	require.Equal(t, map[BrokerID]int64{1: 1, 2: 1}, sc.checkStable(p), "the stable offset does not pass the open transaction")
	require.Equal(t, []string{"0:a"}, sc.committedValues(p.Replica(1)))

	// The producer retries its batch on the new leader: not a duplicate there.
	require.Equal(t, int64(4), sc.produceTxn(p, y, "y"))
	require.Equal(t, int64(5), sc.marker(p, commitOf(5, 0)))
	require.Equal(t, map[BrokerID]int64{1: 6, 2: 6}, sc.checkStable(p))

	sc.start(0)
	require.NoError(t, p.Replica(0).fetchOnce(t.Context(), 0)) // truncates its "y" of epoch 0
	require.Equal(t, int64(3), p.Replica(0).log.WrittenOffset())
	sc.checkStable(p)
	sc.replicate()
	require.Equal(t, map[BrokerID]int64{0: 6, 1: 6, 2: 6}, sc.checkStable(p))
	want := []string{"0:a", "1:x", "2:b", "3:c", "4:y"}
	for _, r := range p.sortedReplicas() {
		require.Equal(t, want, sc.committedValues(r), "broker %d", r.broker)
		require.Empty(t, r.log.AbortedTxns(0, 6), "broker %d", r.broker)
		require.Equal(t, logBytes(t, p.Replica(1)), logBytes(t, r), "broker %d", r.broker)
	}
}

// TestTxnMarkerAboveHighWatermarkLostAtFailover: the leader writes an ABORT
// marker that no follower copies before it fails. The new leader does not have
// it: the transaction is open there (the last stable offset stays below it, no
// aborted transaction), and the coordinator's retried marker ends it. The old
// leader, back as a follower, truncates its marker away, which reopens the
// transaction in its producer state (its aborted-transaction index forgets it),
// and the replicated marker ends it again.
func TestTxnMarkerAboveHighWatermarkLostAtFailover(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	sc.produce(p, AcksAll, "a")
	require.Equal(t, int64(1), sc.produceTxn(p, txnProducer(9, 0, 0), "x"))

	offset, _, err := p.Replica(0).appendMarkerAsLeader(t.Context(), abortOf(9, 0))
	require.NoError(t, err)
	require.Equal(t, int64(2), offset)
	old := p.Replica(0)
	require.Equal(t, int64(2), old.log.HighWatermark(), "not copied: above the high watermark")
	require.Equal(t, map[BrokerID]int64{0: 1, 1: 1, 2: 1}, sc.checkStable(p), "a marker above the high watermark decides nothing yet")
	require.Equal(t, []partition.AbortedTxn{{ProducerID: 9, FirstOffset: 1, LastOffset: 2, LastStableOffset: 3}}, old.log.AbortedTxns(0, 3))

	sc.stop(0)
	require.Equal(t, BrokerID(1), p.State().Leader)
	sc.replicate()
	require.Equal(t, map[BrokerID]int64{1: 1, 2: 1}, sc.checkStable(p))
	for _, r := range p.sortedReplicas() {
		require.Equal(t, int64(2), r.log.WrittenOffset(), "broker %d has no marker", r.broker)
		require.Empty(t, r.log.AbortedTxns(0, 2), "broker %d", r.broker)
	}

	require.Equal(t, int64(2), sc.marker(p, abortOf(9, 0)), "the coordinator's retry ends it on the new leader")
	require.Equal(t, map[BrokerID]int64{1: 3, 2: 3}, sc.checkStable(p))

	sc.start(0)
	old = p.Replica(0)
	require.NoError(t, old.fetchOnce(t.Context(), 0)) // its marker, of epoch 0, diverges
	require.Equal(t, int64(2), old.log.WrittenOffset(), "the old marker is truncated away")
	require.Empty(t, old.log.AbortedTxns(0, 2))
	hw, err := old.log.SetHighWatermark(2) // the leader's is 3: a follower may see 2
	require.NoError(t, err)
	require.Equal(t, int64(2), hw)
	require.Equal(t, int64(1), old.log.LastStableOffset(), "the transaction is open again")
	sc.replicate()
	require.Equal(t, map[BrokerID]int64{0: 3, 1: 3, 2: 3}, sc.checkStable(p))
	for _, r := range p.sortedReplicas() {
		require.Equal(t, []partition.AbortedTxn{{ProducerID: 9, FirstOffset: 1, LastOffset: 2, LastStableOffset: 3}}, r.log.AbortedTxns(0, 3), "broker %d", r.broker)
		require.Equal(t, []string{"0:a"}, sc.committedValues(r), "broker %d", r.broker)
		require.Equal(t, logBytes(t, p.Replica(1)), logBytes(t, r), "broker %d", r.broker)
	}
}
