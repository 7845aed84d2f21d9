package partition

import (
	"cmp"
	"slices"
)

// ProducerState is what a partition knows of one idempotent or transactional
// producer: a row of Kafka's DescribeProducers (and of kafka-transactions
// describe-producers). Its fields are named as ProducerSnapshotEntry's.
type ProducerState struct {
	ProducerID    int64
	ProducerEpoch int16
	// LastSequence is the sequence of the last record of the producer's newest
	// batch, or NoSequence if the partition keeps no batch of it (a producer whose
	// only batches here are markers).
	LastSequence int32
	// LastTimestamp is the max timestamp of the producer's newest batch or marker
	// (ms since the epoch), -1 if unknown.
	LastTimestamp int64
	// CoordinatorEpoch is the coordinator epoch of the last marker the partition
	// took from the producer, -1 if none.
	CoordinatorEpoch int32
	// CurrentTxnFirstOffset is the first offset of the producer's open
	// transaction in this partition, -1 if none is open: what an ABORT or COMMIT
	// marker of the producer would end, and what holds the last stable offset
	// back.
	CurrentTxnFirstOffset int64
}

// Producers returns the state of every producer the partition remembers, sorted
// by producer id (Kafka's DescribeProducers). It reads the producer state if Open
// left it unread; it changes nothing. A closed partition is ErrClosed.
//
// It takes the writers' lock: it waits for an append in progress to be written
// (not for its acknowledgement).
func (p *Partition) Producers() ([]ProducerState, error) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.mu.RLock()
	err := p.readableLocked()
	p.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := p.readProducersLocked(); err != nil {
		return nil, err
	}
	out := make([]ProducerState, 0, len(p.producers.producers))
	for id, e := range p.producers.producers {
		out = append(out, ProducerState{
			ProducerID: id, ProducerEpoch: e.epoch, LastSequence: e.lastSequence(),
			LastTimestamp: e.lastTimestamp, CoordinatorEpoch: e.coordinatorEpoch,
			CurrentTxnFirstOffset: e.txnFirstOffset,
		})
	}
	slices.SortFunc(out, func(a, b ProducerState) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out, nil
}
