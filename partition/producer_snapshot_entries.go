package partition

import (
	"cmp"
	"slices"
)

// ProducerSnapshotEntry is one producer of a <offset>.snapshot file, as Kafka's
// kafka-dump-log prints it: its epoch, coordinator epoch, open transaction and
// newest batch.
type ProducerSnapshotEntry struct {
	ProducerID       int64
	ProducerEpoch    int16
	CoordinatorEpoch int32
	// CurrentTxnFirstOffset is the first offset of the producer's open transaction,
	// or -1 if none is open.
	CurrentTxnFirstOffset int64
	// LastTimestamp is the max timestamp of the producer's newest batch (-1: none).
	LastTimestamp int64
	// FirstSequence and LastSequence are the sequence range of the newest batch, and
	// LastOffset and OffsetDelta its last offset and last offset less first; all are
	// -1 (NoSequence) and LastOffset -1 when the file keeps no batch of the producer.
	FirstSequence, LastSequence int32
	LastOffset                  int64
	OffsetDelta                 int32
}

// DecodeProducerSnapshot decodes the bytes of a <offset>.snapshot file (FORMAT.md),
// its producers sorted by id. A file that is not a valid snapshot (length, version,
// CRC-32C, an entry out of range) is an error wrapping ErrCorrupt.
func DecodeProducerSnapshot(b []byte) ([]ProducerSnapshotEntry, error) {
	s, err := decodeSnapshot(b)
	if err != nil {
		return nil, errorf("strata/partition: producer snapshot: %w", err)
	}
	out := make([]ProducerSnapshotEntry, 0, len(s.producers))
	for id, e := range s.producers {
		entry := ProducerSnapshotEntry{
			ProducerID: id, ProducerEpoch: e.epoch, CoordinatorEpoch: e.coordinatorEpoch,
			CurrentTxnFirstOffset: e.txnFirstOffset, LastTimestamp: e.lastTimestamp,
			FirstSequence: NoSequence, LastSequence: NoSequence, LastOffset: -1, OffsetDelta: -1,
		}
		if n := len(e.batches); n > 0 {
			last := e.batches[n-1]
			entry.FirstSequence, entry.LastSequence = last.firstSequence(), last.lastSequence
			entry.LastOffset, entry.OffsetDelta = last.lastOffset, last.offsetDelta
		}
		out = append(out, entry)
	}
	slices.SortFunc(out, func(a, b ProducerSnapshotEntry) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out, nil
}
