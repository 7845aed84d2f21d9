package partition

import (
	"encoding/binary"

	"github.com/stratalog/strata/internal/errs"
)

// DecodeTxnMarker decodes the key and value of a control batch's record as a
// transaction marker (Kafka's EndTransactionMarker.deserialize): the control
// record type (MarkerAbort, MarkerCommit, or another control type Kafka defines,
// returned as it is) and the coordinator epoch. A key or value shorter than the
// marker's, or a version other than 0, is ErrInvalidArgument. It is for tools
// that print a segment's markers (kafka-dump-log's endTxnMarker).
func DecodeTxnMarker(key, value []byte) (MarkerType, int32, error) {
	if len(key) < markerKeySize {
		return 0, 0, errorf("strata/partition: control record key of %d bytes, want %d: %w", len(key), markerKeySize, errs.ErrInvalidArgument)
	}
	if v := int16(binary.BigEndian.Uint16(key)); v != markerKeyVersion {
		return 0, 0, errorf("strata/partition: control record key version %d, want %d: %w", v, markerKeyVersion, errs.ErrInvalidArgument)
	}
	typ := MarkerType(binary.BigEndian.Uint16(key[2:]))
	if typ != MarkerAbort && typ != MarkerCommit {
		return typ, 0, nil // another control record (Kafka's LEADER_CHANGE, SNAPSHOT_HEADER, ...): no marker value
	}
	if len(value) < markerValueSize {
		return typ, 0, errorf("strata/partition: transaction marker value of %d bytes, want %d: %w", len(value), markerValueSize, errs.ErrInvalidArgument)
	}
	if v := int16(binary.BigEndian.Uint16(value)); v != markerValueVersion {
		return typ, 0, errorf("strata/partition: transaction marker value version %d, want %d: %w", v, markerValueVersion, errs.ErrInvalidArgument)
	}
	return typ, int32(binary.BigEndian.Uint32(value[2:])), nil
}
