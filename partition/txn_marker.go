package partition

import (
	"context"
	"encoding/binary"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// Transaction markers: the COMMIT and ABORT control batches that a transaction
// coordinator writes to every partition a transaction touched (Kafka's
// EndTransactionMarker, written by WriteTxnMarkers).

// MarkerType is the type of a transaction marker: the control record type of
// Kafka's EndTransactionMarker.
type MarkerType int16

// Marker types (Format: the control record key's type field).
const (
	// MarkerAbort ends a transaction whose records readers in read_committed skip.
	MarkerAbort MarkerType = 0
	// MarkerCommit ends a transaction whose records every reader sees.
	MarkerCommit MarkerType = 1
)

// Format: versions of the control record key and of the EndTransactionMarker value.
const (
	markerKeyVersion   int16 = 0
	markerValueVersion int16 = 0
	markerKeySize            = 4 // version int16, type int16
	markerValueSize          = 6 // version int16, coordinatorEpoch int32
)

// TxnMarker is a transaction marker for one producer's transaction.
type TxnMarker struct {
	// ProducerID is the transactional producer's id, at least 0.
	ProducerID int64
	// ProducerEpoch is the producer's epoch, at least 0; a marker of an epoch
	// below the latest the partition has seen from the producer is refused.
	ProducerEpoch int16
	// CoordinatorEpoch is the epoch of the transaction coordinator writing the
	// marker, at least 0; a marker of a coordinator epoch below the latest one the
	// partition has seen for the producer is ErrTransactionCoordinatorFenced.
	CoordinatorEpoch int32
	// Type says whether the transaction commits or aborts.
	Type MarkerType
	// TransactionVersion is the coordinator's transaction protocol version
	// (Kafka's transaction.version): 0 or 1, markers carry the epoch of the
	// transaction's batches; 2 (KIP-890), the coordinator bumps the producer's
	// epoch at every transaction's end and the marker carries the bumped epoch, so
	// that a late marker of an earlier transaction cannot end a later one.
	TransactionVersion int16
}

// AppendTxnMarker appends a transaction marker (a control batch of one record, in
// Kafka's format) that ends the producer's open transaction in this partition, and
// returns its offset once the sync policy acknowledges it. It is for the
// transaction coordinator only: AppendBatch refuses control batches from
// producers, as Kafka's leader does.
//
// It is checked as Kafka checks a marker: an epoch below the producer's latest
// (with TransactionVersion 2, not above it, but for a retry of the marker that
// ended the producer's last transaction: the same epoch with no transaction open) is
// ErrInvalidProducerEpoch, a coordinator epoch below the latest the partition has
// seen for the producer is ErrTransactionCoordinatorFenced, and an invalid marker
// (a negative id or epoch, an unknown type) is ErrInvalidArgument; nothing is
// written then. A marker for a producer without an open transaction in this
// partition is written, as Kafka writes it (a retried marker, or a transaction
// that did not reach this partition), and ends nothing: the last stable offset and
// the aborted-transaction index do not change.
func (p *Partition) AppendTxnMarker(ctx context.Context, m TxnMarker) (int64, error) {
	if m.ProducerID < 0 || m.ProducerEpoch < 0 || m.CoordinatorEpoch < 0 || (m.Type != MarkerAbort && m.Type != MarkerCommit) ||
		m.TransactionVersion < 0 || m.TransactionVersion > 2 {
		return 0, errorf("strata/partition: transaction marker %+v: id, epochs must not be negative, the type must be commit or abort, the transaction version 0 to 2: %w", m, errs.ErrInvalidArgument)
	}
	batch, err := encodeMarker(m, p.opts.Now().UnixMilli())
	if err != nil {
		return 0, err
	}
	h, err := segment.ParseBatchHeader(batch, p.opts.MaxBatchBytes)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p.appendMu.Lock()
	if err := p.checkMarkerLocked(m); err != nil {
		p.appendMu.Unlock()
		return 0, err
	}
	return p.writeAndAcknowledgeLocked(ctx, batch, &h, true)
}

// checkMarkerLocked checks a marker against its producer's state (Kafka's
// ProducerAppendInfo.appendEndTxnMarker: checkProducerEpoch, checkCoordinatorEpoch).
// The caller holds appendMu.
func (p *Partition) checkMarkerLocked(m TxnMarker) error {
	p.mu.RLock()
	err := p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := p.readProducersLocked(); err != nil {
		return err
	}
	e := p.producers.producers[m.ProducerID]
	if e == nil {
		return nil
	}
	stale := m.ProducerEpoch < e.epoch
	if m.TransactionVersion >= 2 {
		// The coordinator bumped the epoch: a marker not above the producer's
		// epoch is late, unless it repeats the one that ended the last transaction.
		stale = m.ProducerEpoch < e.epoch || (m.ProducerEpoch == e.epoch && e.txnFirstOffset >= 0)
	}
	if stale {
		return errorf("strata/partition: transaction marker of producer %d: epoch %d is stale, the latest is %d (transaction version %d): %w",
			m.ProducerID, m.ProducerEpoch, e.epoch, m.TransactionVersion, ErrInvalidProducerEpoch)
	}
	if m.CoordinatorEpoch < e.coordinatorEpoch {
		return errorf("strata/partition: transaction marker of producer %d: coordinator epoch %d is below the latest %d: %w",
			m.ProducerID, m.CoordinatorEpoch, e.coordinatorEpoch, ErrTransactionCoordinatorFenced)
	}
	return nil
}

// encodeMarker encodes m as Kafka's control batch: attributes transactional and
// control, baseSequence -1, one record whose key is version int16 and type int16
// and whose value is version int16 and coordinatorEpoch int32.
func encodeMarker(m TxnMarker, timestamp int64) ([]byte, error) {
	key := make([]byte, 0, markerKeySize+markerValueSize)
	key = binary.BigEndian.AppendUint16(key, uint16(markerKeyVersion))
	key = binary.BigEndian.AppendUint16(key, uint16(m.Type))
	value := binary.BigEndian.AppendUint16(key[markerKeySize:], uint16(markerValueVersion))
	value = binary.BigEndian.AppendUint32(value, uint32(m.CoordinatorEpoch))
	records := []Record{{Key: key[:markerKeySize], Value: value, Timestamp: timestamp}}
	return segment.AppendBatch(nil, records, &segment.BatchOptions{
		Idempotent: true, ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, BaseSequence: NoSequence,
		Transactional: true, Control: true,
	})
}

// decodeMarkerType returns the type of the transaction marker in a control batch,
// or false if it holds none (the cleaner may empty a control batch).
func decodeMarkerType(batch []byte) (MarkerType, bool) {
	var d segment.Decoder
	if d.Reset(batch) != nil {
		return 0, false
	}
	var r Record
	if ok, err := d.Next(&r); !ok || err != nil || len(r.Key) < markerKeySize {
		return 0, false
	}
	return MarkerType(binary.BigEndian.Uint16(r.Key[2:4])), true
}
