package partition

import (
	"math"

	"github.com/stratalog/strata/segment"
)

// Producer state: what a partition remembers of each idempotent or transactional
// producer (Kafka's ProducerStateManager and ProducerStateEntry), so that a retried
// batch is recognised as a duplicate, a gap in sequence numbers or a stale epoch is
// refused, and a transaction's first offset is known. It is plain code, driven by
// the append path under appendMu (producer_append.go) and by Open's rebuild from the
// log (producer_rebuild.go); it does no I/O.

// Producer identity values that mean "none", as in Kafka's RecordBatch.
const (
	// NoProducerID is the producer id of a batch without a producer identity.
	NoProducerID int64 = -1
	// NoProducerEpoch is the epoch of a producer whose epoch is unknown.
	NoProducerEpoch int16 = -1
	// NoSequence is the sequence number of a batch without a producer identity.
	NoSequence int32 = -1
)

// producerBatchesRetained is how many of a producer's latest batches are remembered
// for duplicate detection: Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN, which
// is also the most requests a Kafka idempotent producer keeps in flight
// (max.in.flight.requests.per.connection).
const producerBatchesRetained = 5

// producerBatch is the metadata of one batch a producer appended (Kafka's
// BatchMetadata).
type producerBatch struct {
	lastSequence int32
	lastOffset   int64
	offsetDelta  int32 // lastOffset - firstOffset
	timestamp    int64 // the batch's max timestamp
}

func (b producerBatch) firstSequence() int32 {
	return decrementSequence(b.lastSequence, b.offsetDelta)
}

func (b producerBatch) firstOffset() int64 { return b.lastOffset - int64(b.offsetDelta) }

// producerEntry is the state of one producer (Kafka's ProducerStateEntry).
type producerEntry struct {
	epoch            int16
	batches          []producerBatch // oldest first, at most producerBatchesRetained
	coordinatorEpoch int32
	lastTimestamp    int64
	// txnFirstOffset is the first offset of the producer's open transaction, or -1.
	txnFirstOffset int64
}

func newProducerEntry() *producerEntry {
	return &producerEntry{epoch: NoProducerEpoch, coordinatorEpoch: -1, lastTimestamp: -1, txnFirstOffset: -1}
}

// lastSequence is the last sequence of the newest batch, or NoSequence.
func (e *producerEntry) lastSequence() int32 {
	if len(e.batches) == 0 {
		return NoSequence
	}
	return e.batches[len(e.batches)-1].lastSequence
}

// setEpoch forgets the batches of an older epoch: sequences start over at a new one.
func (e *producerEntry) setEpoch(epoch int16) {
	if e.epoch != epoch {
		e.batches = e.batches[:0]
		e.epoch = epoch
	}
}

// addBatch remembers a batch, forgetting the oldest beyond producerBatchesRetained.
func (e *producerEntry) addBatch(epoch int16, b producerBatch) {
	e.setEpoch(epoch)
	if len(e.batches) == producerBatchesRetained {
		copy(e.batches, e.batches[1:])
		e.batches = e.batches[:len(e.batches)-1]
	}
	e.batches = append(e.batches, b)
	e.lastTimestamp = b.timestamp
}

// duplicateOf returns the remembered batch with exactly the sequence range of h, if
// h's epoch is the entry's (Kafka's findDuplicateBatch).
func (e *producerEntry) duplicateOf(h *segment.BatchHeader) (producerBatch, bool) {
	if h.ProducerEpoch != e.epoch {
		return producerBatch{}, false
	}
	last := batchLastSequence(h)
	for _, b := range e.batches {
		if b.firstSequence() == h.BaseSequence && b.lastSequence == last {
			return b, true
		}
	}
	return producerBatch{}, false
}

// producerStates maps producer ids to their state.
type producerStates struct {
	producers map[int64]*producerEntry
	ongoing   ongoingTxns // the open transactions by first offset (txn_ongoing.go)
}

func newProducerStates() producerStates {
	return producerStates{producers: map[int64]*producerEntry{}, ongoing: ongoingTxns{known: true}}
}

// check decides whether the leader may append the batch h of a producer (h.ProducerID
// >= 0), as Kafka's leader does (UnifiedLog.analyzeAndValidateProducerState,
// ProducerAppendInfo.checkProducerEpoch and checkSequence). A duplicate of one of the
// producer's remembered batches returns that batch and dup; otherwise err is nil if
// the batch may be appended, or says why not. It changes nothing.
func (s *producerStates) check(h *segment.BatchHeader) (original producerBatch, dup bool, err error) {
	e := s.producers[h.ProducerID]
	if e == nil {
		// An unknown producer (new, or whose batches retention removed and whose
		// state expired) may start at any sequence: Kafka's rule since KIP-360,
		// where the broker no longer answers UNKNOWN_PRODUCER_ID.
		return producerBatch{}, false, nil
	}
	if h.ProducerEpoch < e.epoch {
		return producerBatch{}, false, errorf("strata/partition: producer %d: epoch %d is below the latest epoch %d: %w",
			h.ProducerID, h.ProducerEpoch, e.epoch, ErrInvalidProducerEpoch)
	}
	if h.IsControl() {
		return producerBatch{}, false, nil
	}
	if b, ok := e.duplicateOf(h); ok {
		return b, true, nil
	}
	if h.ProducerEpoch != e.epoch {
		if h.BaseSequence != 0 && e.epoch != NoProducerEpoch {
			return producerBatch{}, false, errorf("strata/partition: producer %d: new epoch %d must start at sequence 0, not %d: %w",
				h.ProducerID, h.ProducerEpoch, h.BaseSequence, ErrOutOfOrderSequence)
		}
	} else if last := e.lastSequence(); e.epoch != NoProducerEpoch && !inSequence(last, h.BaseSequence) {
		return producerBatch{}, false, errorf("strata/partition: producer %d epoch %d: sequence %d does not follow %d: %w",
			h.ProducerID, h.ProducerEpoch, h.BaseSequence, last, ErrOutOfOrderSequence)
	}
	if e.txnFirstOffset >= 0 && !h.IsTransactional() {
		return producerBatch{}, false, errorf("strata/partition: producer %d: a non-transactional batch while its transaction from offset %d is open: %w",
			h.ProducerID, e.txnFirstOffset, ErrInvalidTxnState)
	}
	return producerBatch{}, false, nil
}

// checkEpoch checks a batch a coordinator writes for a producer (Kafka's
// AppendOrigin.COORDINATOR, which checks the epoch but neither the sequence nor
// duplicates): an epoch below the producer's latest is ErrInvalidProducerEpoch.
func (s *producerStates) checkEpoch(h *segment.BatchHeader) error {
	if e := s.producers[h.ProducerID]; e != nil && h.ProducerEpoch < e.epoch {
		return errorf("strata/partition: producer %d: epoch %d is below the latest epoch %d: %w",
			h.ProducerID, h.ProducerEpoch, e.epoch, ErrInvalidProducerEpoch)
	}
	return nil
}

// apply records the appended data batch h (offsets set) of a producer, without
// checks: what the leader does after check, and a follower or Open's rebuild for
// every batch (Kafka's appendDataBatch with origin REPLICATION).
func (s *producerStates) apply(h *segment.BatchHeader) {
	e := s.entry(h.ProducerID)
	e.addBatch(h.ProducerEpoch, producerBatch{
		lastSequence: batchLastSequence(h),
		lastOffset:   h.LastOffset(),
		offsetDelta:  h.LastOffsetDelta,
		timestamp:    h.MaxTimestamp,
	})
	// A batch compaction emptied begins nothing: its transaction's marker may be
	// gone too (txn_compact.go).
	if h.IsTransactional() && e.txnFirstOffset < 0 && h.RecordCount > 0 {
		e.txnFirstOffset = h.BaseOffset
		s.opened(h.ProducerID, h.BaseOffset)
	}
}

// applyMarker records a transaction marker (a control batch) of a producer: the
// transaction it ends is over (Kafka's appendEndTxnMarker).
func (s *producerStates) applyMarker(producerID int64, epoch int16, coordinatorEpoch int32, timestamp int64) {
	e := s.entry(producerID)
	e.setEpoch(epoch)
	e.coordinatorEpoch = coordinatorEpoch
	e.txnFirstOffset = -1
	e.lastTimestamp = timestamp
}

func (s *producerStates) entry(producerID int64) *producerEntry {
	e := s.producers[producerID]
	if e == nil {
		e = newProducerEntry()
		s.producers[producerID] = e
	}
	return e
}

// keepBelow puts back into s what before (the state before a truncation to end)
// knew of each producer's batches below end: a producer's remembered batches that
// truncation left are its newest below end, which a rebuild from snapshots and the
// log may have lost (retention deleted the segments, compaction the batches). A
// transaction is open as the rebuild found it, unless before knew it open from
// below end.
func (s *producerStates) keepBelow(before producerStates, end int64) {
	s.forgetOngoing()
	for id, e := range before.producers {
		n := 0
		for n < len(e.batches) && e.batches[n].lastOffset < end {
			n++
		}
		if n == 0 {
			continue // every remembered batch was truncated: the rebuild knows best
		}
		kept := *e
		kept.batches = append([]producerBatch(nil), e.batches[:n]...)
		kept.lastTimestamp = kept.batches[n-1].timestamp
		if kept.txnFirstOffset >= end {
			kept.txnFirstOffset = -1
		}
		if r := s.producers[id]; r != nil && r.epoch == kept.epoch && kept.txnFirstOffset < 0 {
			// A marker truncated away no longer ends the transaction: the rebuild,
			// which read the log below end, knows whether one is open.
			kept.txnFirstOffset, kept.coordinatorEpoch = r.txnFirstOffset, r.coordinatorEpoch
		}
		s.producers[id] = &kept
	}
}

// dropWithoutBatches forgets the producers of which no batch is kept and no
// transaction is open (those known from markers only).
func (s *producerStates) dropWithoutBatches() {
	for id, e := range s.producers {
		if len(e.batches) == 0 && e.txnFirstOffset < 0 {
			delete(s.producers, id)
		}
	}
}

// expire forgets the producers idle since before nowMs-expiration (ms) with no open
// transaction (Kafka's isProducerExpired) and returns how many.
func (s *producerStates) expire(nowMs, expirationMs int64) int {
	n := 0
	for id, e := range s.producers {
		if e.txnFirstOffset < 0 && nowMs-e.lastTimestamp >= expirationMs {
			delete(s.producers, id)
			n++
		}
	}
	return n
}

// batchLastSequence is the sequence of the last record of h; sequences wrap from
// MaxInt32 to 0 as Kafka's do.
func batchLastSequence(h *segment.BatchHeader) int32 {
	return incrementSequence(h.BaseSequence, h.LastOffsetDelta)
}

// incrementSequence is Kafka's DefaultRecordBatch.incrementSequence.
func incrementSequence(sequence, increment int32) int32 {
	if sequence > math.MaxInt32-increment {
		return increment - (math.MaxInt32 - sequence) - 1
	}
	return sequence + increment
}

// decrementSequence is Kafka's DefaultRecordBatch.decrementSequence.
func decrementSequence(sequence, decrement int32) int32 {
	if sequence < decrement {
		return math.MaxInt32 - (decrement - sequence) + 1
	}
	return sequence - decrement
}

// inSequence says whether next follows last, wrapping after MaxInt32.
func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}

// inTransaction says whether the producer has an open transaction.
func (s *producerStates) inTransaction(producerID int64) bool {
	e := s.producers[producerID]
	return e != nil && e.txnFirstOffset >= 0
}
