package replica

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// Transactions in the deterministic simulation: a third of the produces are
// transactional, each transaction by a producer id of its own (a transactional
// producer's epoch after InitProducerId), ended by a COMMIT or ABORT marker the
// schedule writes through the leader, as a coordinator does, and retries with the
// same decision once healed (a coordinator retries until every partition has its
// marker); a transaction undecided then is aborted. Half the consumes read in
// read_committed. Checked on top of sim_test.go's invariants:
//
//   - at every step, every replica's last stable offset is at most its high
//     watermark;
//   - once healed, every replica of a partition agrees on the last stable offset,
//     the aborted transactions and what a read_committed reader returns;
//   - no record a read_committed consumer read is later aborted or gone (Jepsen's
//     G1a, across failovers), unless an unclean election happened.

// TestSimulationTransactions runs the simulation's clean schedules (see
// runSimulation), where no committed record may be lost, so that the transaction
// invariants above are checked on every schedule that heals.
func TestSimulationTransactions(t *testing.T) { runSimulation(t, true) }

// simTxn is a partition's open transaction.
type simTxn struct {
	producerID int64
	sequence   int32 // the next batch's base sequence
	// retry is the batch at sequence, if its produce failed: a producer sends
	// the same records again, which a leader holding them answers as a duplicate.
	retry []string
}

// simTxns is the simulation's transaction state.
type simTxns struct {
	open          map[string]*simTxn
	nextProducer  int64
	decisions     map[string]map[int64]partition.MarkerType // by partition and producer id
	seenCommitted map[string]map[int64]string
	cursor        map[string]int64 // of the read_committed consumer
	// unended are the partitions where a marker could not be written once
	// healed (too few replicas for min.insync.replicas, say).
	unended map[string]bool
}

func newSimTxns() simTxns {
	return simTxns{open: map[string]*simTxn{}, nextProducer: 1000, decisions: map[string]map[int64]partition.MarkerType{},
		seenCommitted: map[string]map[int64]string{}, cursor: map[string]int64{}, unended: map[string]bool{}}
}

// produceTxn writes a batch of the partition's open transaction (beginning one if
// none is open), or, one time in four, its marker.
func (s *sim) produceTxn() {
	name := s.parts[s.rng.IntN(len(s.parts))]
	r, err := s.c.Partition(name).Leader()
	if err != nil {
		s.step("transaction of %s: %v", name, err)
		return
	}
	t := s.txns.open[name]
	if t != nil && s.rng.IntN(4) == 0 {
		_ = s.endTxn(name, r, t, []partition.MarkerType{partition.MarkerCommit, partition.MarkerAbort}[s.rng.IntN(2)])
		return
	}
	if t == nil {
		s.txns.nextProducer++
		t = &simTxn{producerID: s.txns.nextProducer}
		s.txns.open[name] = t
	}
	acks := []Acks{AcksAll, AcksLeader}[s.rng.IntN(2)]
	values := t.retry
	if values == nil {
		for range 1 + s.rng.IntN(3) {
			s.produced++
			values = append(values, fmt.Sprintf("%s/%d/txn-%d", name, s.produced, t.producerID))
		}
	}
	n := len(values)
	recs := make([]partition.Record, n)
	for i, v := range values {
		recs[i] = partition.Record{Value: []byte(v), Timestamp: s.now.UnixMilli()}
	}
	pr := &partition.Producer{ID: t.producerID, BaseSequence: t.sequence, Transactional: true}
	base, end, epoch, err := r.appendAsLeaderWith(context.Background(), recs, acks, pr)
	s.step("produce %s transactional (producer %d, sequence %d) acks=%v on %d: %d records at %d: %v", name, t.producerID, t.sequence, acks, r.broker, n, base, err)
	switch {
	case errors.Is(err, partition.ErrOutOfOrderSequence):
		// A batch before it was lost at a failover: the producer aborts the
		// transaction (it would bump its epoch).
		_ = s.endTxn(name, r, t, partition.MarkerAbort)
		return
	case err != nil:
		t.retry = values
		return
	}
	t.sequence, t.retry = t.sequence+int32(n), nil
	if acks == AcksAll {
		s.pending = append(s.pending, simPending{part: name, r: r, base: base, end: end, epoch: epoch, values: values})
	} else if s.syncMode == partition.SyncEveryAppend {
		if err := r.log.Sync(context.Background()); err != nil {
			r.checkDisk(err)
		}
	}
}

// endTxn decides the transaction and writes its marker through the leader r; the
// decision is final, whether or not this marker makes it into the log.
func (s *sim) endTxn(name string, r *Replica, t *simTxn, typ partition.MarkerType) error {
	if s.txns.decisions[name] == nil {
		s.txns.decisions[name] = map[int64]partition.MarkerType{}
	}
	s.txns.decisions[name][t.producerID] = typ
	delete(s.txns.open, name)
	offset, _, err := r.appendMarkerAsLeader(context.Background(), partition.TxnMarker{ProducerID: t.producerID, Type: typ})
	s.step("marker %v of %s (producer %d) on %d: at %d: %v", typ, name, t.producerID, r.broker, offset, err)
	return err
}

// endTransactions, once healed, retries every decided marker (the coordinator
// does not know which made it into the log; a retry ends nothing where one did)
// and aborts the transactions still open.
func (s *sim) endTransactions() {
	for _, name := range s.parts {
		r, err := s.c.Partition(name).Leader()
		if err != nil {
			s.txns.unended[name] = true // checkFinal reports it
			continue
		}
		if t := s.txns.open[name]; t != nil && s.endTxn(name, r, t, partition.MarkerAbort) != nil {
			s.txns.unended[name] = true
		}
		decisions := s.txns.decisions[name]
		for _, id := range slices.Sorted(maps.Keys(decisions)) {
			offset, _, err := r.appendMarkerAsLeader(context.Background(), partition.TxnMarker{ProducerID: id, Type: decisions[id]})
			s.step("retried marker %v of %s (producer %d) on %d: at %d: %v", decisions[id], name, id, r.broker, offset, err)
			if err != nil {
				s.txns.unended[name] = true
			}
		}
	}
}

// consumeCommitted reads in read_committed what the leader's last stable offset
// lets a consumer read.
func (s *sim) consumeCommitted() {
	name := s.parts[s.rng.IntN(len(s.parts))]
	r, err := s.c.Partition(name).Leader()
	if err != nil {
		return
	}
	from := max(s.txns.cursor[name], r.log.StartOffset())
	got, err := readCommitted(r, from)
	s.step("consume %s read_committed from %d on %d (last stable offset %d): %d records: %v", name, from, r.broker, r.log.LastStableOffset(), len(got), err)
	if s.txns.seenCommitted[name] == nil {
		s.txns.seenCommitted[name] = map[int64]string{}
	}
	for _, off := range slices.Sorted(maps.Keys(got)) {
		s.txns.seenCommitted[name][off] = got[off]
		s.txns.cursor[name] = off + 1
	}
}

// readCommitted returns what a read_committed reader of r's log returns from
// offset on.
func readCommitted(r *Replica, from int64) (map[int64]string, error) {
	rd := r.log.NewReader(from, 1<<16)
	if err := rd.SetIsolationLevel(partition.ReadCommitted); err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for {
		rec, err := rd.TryNext()
		if rec == nil || err != nil {
			return out, err
		}
		out[rec.Offset] = string(rec.Value)
	}
}

// checkStable checks that no replica's last stable offset passes its high
// watermark, nor the first batch of a transaction its log holds open or ended by a
// marker at or above the high watermark (stableBound). A replica that started
// over at its leader's log start offset does not know the transactions begun
// below it: the second check skips partitions whose records were deleted.
func (s *sim) checkStable(name string) {
	for _, r := range s.c.Partition(name).sortedReplicas() {
		lso, hw := r.log.LastStableOffset(), r.log.HighWatermark()
		if lso > hw {
			s.violation("%s on %d: last stable offset %d above the high watermark %d", name, r.broker, lso, hw)
		}
		if s.deleted[name] > 0 || r.log.Err() != nil {
			continue
		}
		if bound := s.stableBound(r, hw); lso > bound {
			s.violation("%s on %d: last stable offset %d passes an undecided transaction (at %d; high watermark %d)", name, r.broker, lso, bound, hw)
		}
	}
}

// stableBound is the last stable offset that r's log bytes allow at high
// watermark hw: below the first batch of every transaction without a marker, or
// with one at or above hw.
func (s *sim) stableBound(r *Replica, hw int64) int64 {
	start := r.log.StartOffset()
	bound := hw
	open := map[int64]int64{} // producer id -> first offset of its open transaction
	b := logBytes(s.t, r)
	for pos := 0; pos < len(b); {
		h, err := parseHeader(b[pos:])
		if err != nil {
			s.violation("%s on %d: %v", r.name, r.broker, err)
			return bound
		}
		pos += h.Size()
		if h.ProducerID < 0 || !h.IsTransactional() {
			continue
		}
		first, ok := open[h.ProducerID]
		switch {
		case h.IsControl() && ok:
			if h.BaseOffset >= hw {
				bound = min(bound, first)
			}
			delete(open, h.ProducerID)
		case !h.IsControl() && !ok && h.RecordCount > 0:
			open[h.ProducerID] = h.BaseOffset
		}
	}
	for _, first := range open {
		bound = min(bound, first)
	}
	return max(bound, start)
}

// checkFinalTxns checks, once healed and every transaction ended, that no record
// read in read_committed was aborted or lost, and that the replicas agree on the
// transactions.
func (s *sim) checkFinalTxns(name string, leader *Replica, from int64) {
	if s.unclean[name] || s.txns.unended[name] || from > leader.log.HighWatermark() {
		return // committed records may be lost; or transactions still open
	}
	want, err := readCommitted(leader, from)
	if err != nil {
		s.violation("%s: read_committed on leader %d: %v", name, leader.broker, err)
		return
	}
	for off, v := range s.txns.seenCommitted[name] {
		if off >= from && want[off] != v {
			s.violation("%s: record %q read in read_committed at offset %d is now %q (aborted, or lost)", name, v, off, want[off])
		}
	}
	lso := leader.log.LastStableOffset()
	if hw := leader.log.HighWatermark(); lso != hw {
		s.violation("%s: every transaction ended, yet the last stable offset %d is below the high watermark %d", name, lso, hw)
	}
	if s.deleted[name] > 0 {
		// A replica that started over at a leader's log start offset holds the same
		// bytes but not the producer state of what lies below (neither do Kafka's:
		// producer state is not replicated, only rebuilt from the log).
		return
	}
	aborted := abortedFrom(leader, from)
	for _, r := range s.c.Partition(name).sortedReplicas() {
		if r.log.HighWatermark() != leader.log.HighWatermark() {
			continue // a replica not in sync; its bytes are compared already
		}
		if got := r.log.LastStableOffset(); got != lso {
			s.violation("%s: replica %d's last stable offset %d, the leader %d's %d", name, r.broker, got, leader.broker, lso)
		}
		if got := abortedFrom(r, from); !slices.Equal(got, aborted) {
			s.violation("%s: replica %d's aborted transactions %v, the leader %d's %v", name, r.broker, got, leader.broker, aborted)
		}
		if got, err := readCommitted(r, from); err != nil || !maps.Equal(got, want) {
			s.violation("%s: replica %d's read_committed records differ from the leader %d's (%d vs %d): %v", name, r.broker, leader.broker, len(got), len(want), err)
		}
	}
}

// abortedFrom returns the aborted transactions of r's log whose records begin at
// or above from, without their last stable offset, which a replica that started
// over computes from what it holds.
func abortedFrom(r *Replica, from int64) []partition.AbortedTxn {
	var out []partition.AbortedTxn
	for _, a := range r.log.AbortedTxns(from, r.log.WrittenOffset()) {
		if a.FirstOffset >= from {
			a.LastStableOffset = 0
			out = append(out, a)
		}
	}
	return out
}

// skipControl returns the offset after the control batch at offset in r's log,
// which Read skips; an error if the batch there is not one.
func (s *sim) skipControl(r *Replica, offset int64) (int64, error) {
	b, err := r.log.ReadBatches(nil, offset, 1<<16)
	if err != nil {
		return offset, err
	}
	h, err := segment.ParseBatchHeader(b, len(b))
	if err != nil {
		return offset, err
	}
	if !h.IsControl() {
		return offset, fmt.Errorf("Read returned nothing at %d, below the high watermark, yet the batch there is no control batch", offset)
	}
	return h.NextOffset(), nil
}
