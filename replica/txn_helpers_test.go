package replica

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/partition"
	"github.com/stretchr/testify/require"
)

// Helpers of the transaction scenarios: the acks=all calls of the public API
// (ProduceWith, AppendTxnMarker) block until the high watermark covers what they
// wrote, and a Manual cluster's followers fetch only when the script says, so
// they run on a goroutine while the script replicates.

// leaderCall runs call on the partition's leader and returns its outcome: once
// call wrote (the leader's log end moved) the followers replicate, and call's
// acknowledgement is awaited if the high watermark then covers the leader's log
// end; otherwise its ctx is cancelled, and it returns an error matching
// ErrOutcomeUnknown. A call that fails before writing returns at once.
func (sc *scenario) leaderCall(p *Partition, call func(ctx context.Context, r *Replica) (int64, error)) (int64, error) {
	sc.t.Helper()
	r, err := p.Leader()
	if err != nil {
		return 0, err
	}
	type result struct {
		offset int64
		err    error
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := r.log.WrittenOffset()
	done := make(chan result, 1)
	go func() {
		offset, err := call(ctx, r)
		done <- result{offset, err}
	}()
	for {
		changes := r.log.Changes()
		if r.log.WrittenOffset() > before {
			break
		}
		select {
		case res := <-done:
			return res.offset, res.err // refused, or a duplicate: nothing written
		case <-changes:
		}
	}
	sc.replicate()
	if !sc.isrHolds(p, r.log.WrittenOffset()) {
		cancel() // the high watermark cannot reach it: the call would wait forever
	}
	res := <-done
	// The leader may raise its high watermark in the call itself, after the
	// followers' last fetch: once more, so that they learn it.
	sc.replicate()
	return res.offset, res.err
}

// isrHolds reports whether every in-sync replica of p has written up to
// offset, so that the leader's high watermark reaches it (the leader raises it
// in the produce call itself, which may not have happened yet).
func (sc *scenario) isrHolds(p *Partition, offset int64) bool {
	for _, b := range p.State().ISR {
		r := p.Replica(b)
		if r == nil || r.log.WrittenOffset() < offset {
			return false
		}
	}
	return true
}

// marker appends a transaction marker through the leader, acks=all, and fails the
// test on error.
func (sc *scenario) marker(p *Partition, m partition.TxnMarker) int64 {
	sc.t.Helper()
	offset, err := sc.tryMarker(p, m)
	require.NoError(sc.t, err)
	return offset
}

// tryMarker is marker returning the error.
func (sc *scenario) tryMarker(p *Partition, m partition.TxnMarker) (int64, error) {
	sc.t.Helper()
	return sc.leaderCall(p, func(ctx context.Context, r *Replica) (int64, error) { return r.AppendTxnMarker(ctx, m) })
}

// produceTxn produces records with a producer's identity through the leader,
// acks=all (ProduceWith), and fails the test on error.
func (sc *scenario) produceTxn(p *Partition, pr partition.Producer, values ...string) int64 {
	sc.t.Helper()
	offset, err := sc.tryProduceTxn(p, pr, values...)
	require.NoError(sc.t, err)
	return offset
}

// tryProduceTxn is produceTxn returning the error.
func (sc *scenario) tryProduceTxn(p *Partition, pr partition.Producer, values ...string) (int64, error) {
	sc.t.Helper()
	recs := sc.records(values...)
	return sc.leaderCall(p, func(ctx context.Context, r *Replica) (int64, error) { return r.ProduceWith(ctx, recs, AcksAll, &pr) })
}

// records returns one record per value, timestamped now.
func (sc *scenario) records(values ...string) []partition.Record {
	recs := make([]partition.Record, len(values))
	for i, v := range values {
		recs[i] = partition.Record{Value: []byte(v), Timestamp: sc.now.UnixMilli()}
	}
	return recs
}

// checkStable checks, on every open replica of p, that the last stable offset is
// at most the high watermark, and returns each replica's last stable offset.
func (sc *scenario) checkStable(p *Partition) map[BrokerID]int64 {
	sc.t.Helper()
	out := map[BrokerID]int64{}
	for _, r := range p.sortedReplicas() {
		lso, hw := r.log.LastStableOffset(), r.log.HighWatermark()
		require.LessOrEqual(sc.t, lso, hw, "broker %d: last stable offset above the high watermark", r.broker)
		out[r.broker] = lso
	}
	return out
}

// committedValues returns "offset:value" of what a read_committed reader of r's
// log returns, up to its last stable offset.
func (sc *scenario) committedValues(r *Replica) []string {
	sc.t.Helper()
	rd := r.log.NewReader(r.log.StartOffset(), 1<<20)
	require.NoError(sc.t, rd.SetIsolationLevel(partition.ReadCommitted))
	var out []string
	for {
		rec, err := rd.TryNext()
		require.NoError(sc.t, err)
		if rec == nil {
			return out
		}
		out = append(out, fmt.Sprintf("%d:%s", rec.Offset, rec.Value))
	}
}

// commitOf and abortOf are the markers ending a producer's transaction.
func commitOf(id int64, epoch int16) partition.TxnMarker {
	return partition.TxnMarker{ProducerID: id, ProducerEpoch: epoch, Type: partition.MarkerCommit}
}

func abortOf(id int64, epoch int16) partition.TxnMarker {
	return partition.TxnMarker{ProducerID: id, ProducerEpoch: epoch, Type: partition.MarkerAbort}
}

// txnProducer is a transactional producer's identity for the batch starting at
// sequence.
func txnProducer(id int64, epoch int16, sequence int32) partition.Producer {
	return partition.Producer{ID: id, Epoch: epoch, BaseSequence: sequence, Transactional: true}
}
