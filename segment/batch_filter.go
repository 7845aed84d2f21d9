package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"github.com/stratalog/strata/internal/errs"
)

// NoDeleteHorizon, as the deleteHorizon of AppendFilteredBatch, writes a batch without
// a delete horizon (attribute bit 6 clear).
const NoDeleteHorizon = -1

// DeleteHorizon returns the delete horizon compaction set on the batch (ms since the
// Unix epoch; attribute bit 6, stored in baseTimestamp) and true, or false if none
// is set. Compaction removes the batch's tombstones once the horizon has passed.
func (h *BatchHeader) DeleteHorizon() (int64, bool) {
	if !h.HasDeleteHorizon() {
		return 0, false
	}
	return h.BaseTimestamp, true
}

// AppendFilteredBatch appends to dst a batch that takes the place of the batch whose
// header is h in the log, holding only records, a subsequence of h's records in
// offset order (their Offset fields set, as Decoder.Next sets them): what compaction
// writes. Offsets never change: the batch keeps h's baseOffset and lastOffsetDelta,
// and each record keeps its offsetDelta (Offset - baseOffset), so lastOffsetDelta may
// exceed recordCount-1. The batch also keeps h's partitionLeaderEpoch, producer
// fields, timestamp type, transactional and control bits, and codec.
//
// With deleteHorizon >= 0, attribute bit 6 is set and baseTimestamp holds the delete
// horizon (Kafka's KIP-534); record timestamps are stored as deltas from it, so they
// decode unchanged. With NoDeleteHorizon, baseTimestamp is the first record's
// timestamp. maxTimestamp is the greatest record timestamp (h's maxTimestamp for a
// log-append-time batch, whose records all take it). With no records the result is an
// empty batch, uncompressed, with baseTimestamp and maxTimestamp h's maxTimestamp, as
// Kafka writes one: it keeps the batch's offsets in the log.
//
// Records outside h's offsets or not in strictly rising order wrap
// errs.ErrInvalidArgument, and so does an lz4 batch (strata cannot encode lz4); dst is
// then returned unchanged.
func AppendFilteredBatch(dst []byte, h *BatchHeader, records []Record, deleteHorizon int64) ([]byte, error) {
	codec := h.Compression()
	if len(records) == 0 {
		codec = CompressionNone
	}
	if !codec.supported() {
		return dst, fmt.Errorf("%w: %w: batch at offset %d is compressed with %v", errs.ErrInvalidArgument, ErrUnsupportedCompression, h.BaseOffset, codec)
	}
	if len(records) > math.MaxInt32 {
		return dst, fmt.Errorf("%w: %d records in one batch", errs.ErrRecordTooLarge, len(records))
	}
	next := h.BaseOffset
	maxTimestamp := h.MaxTimestamp
	if len(records) > 0 && !h.LogAppendTime() {
		maxTimestamp = math.MinInt64
	}
	for i := range records {
		off := records[i].Offset
		if off < next || off > h.LastOffset() {
			return dst, fmt.Errorf("%w: record offset %d not in [%d, %d] or not rising", errs.ErrInvalidArgument, off, next, h.LastOffset())
		}
		next = off + 1
		if !h.LogAppendTime() {
			maxTimestamp = max(maxTimestamp, records[i].Timestamp)
		}
	}
	baseTimestamp := h.MaxTimestamp
	switch {
	case deleteHorizon >= 0:
		baseTimestamp = deleteHorizon
	case len(records) > 0:
		baseTimestamp = records[0].Timestamp
	}

	start := len(dst)
	var err error
	if codec == CompressionNone {
		grown := slices.Grow(dst, BatchHeaderSize)[:start+BatchHeaderSize]
		if grown, _, err = appendRecords(grown, records, baseTimestamp, h.BaseOffset); err != nil {
			return dst, err
		}
		dst = grown
	} else {
		scratch := getScratch()
		*scratch, _, err = appendRecords((*scratch)[:0], records, baseTimestamp, h.BaseOffset)
		if err == nil {
			dst = slices.Grow(dst, BatchHeaderSize)[:start+BatchHeaderSize]
			dst, err = compress(dst, codec, *scratch)
			if err == nil && len(dst)-start-BatchOverhead > maxBatchLength {
				err = fmt.Errorf("%w: compressed batch of %d records takes %d bytes", errs.ErrRecordTooLarge, len(records), len(dst)-start)
			}
		}
		putScratch(scratch)
		if err != nil {
			return dst[:start], err
		}
	}

	attributes := h.Attributes&^(attributeCompressionMask|attributeDeleteHorizonSet) | int16(codec)
	if deleteHorizon >= 0 {
		attributes |= attributeDeleteHorizonSet
	}
	b := dst[start:]
	_ = b[BatchHeaderSize-1]
	binary.BigEndian.PutUint64(b[offsetBaseOffset:], uint64(h.BaseOffset))
	binary.BigEndian.PutUint32(b[offsetBatchLength:], uint32(len(b)-BatchOverhead))
	binary.BigEndian.PutUint32(b[offsetLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[offsetMagic] = MagicV2
	binary.BigEndian.PutUint16(b[offsetAttributes:], uint16(attributes))
	binary.BigEndian.PutUint32(b[offsetLastOffsetDelta:], uint32(h.LastOffsetDelta))
	binary.BigEndian.PutUint64(b[offsetBaseTimestamp:], uint64(baseTimestamp))
	binary.BigEndian.PutUint64(b[offsetMaxTimestamp:], uint64(maxTimestamp))
	binary.BigEndian.PutUint64(b[offsetProducerID:], uint64(h.ProducerID))
	binary.BigEndian.PutUint16(b[offsetProducerEpoch:], uint16(h.ProducerEpoch))
	binary.BigEndian.PutUint32(b[offsetBaseSequence:], uint32(h.BaseSequence))
	binary.BigEndian.PutUint32(b[offsetRecordCount:], uint32(len(records)))
	binary.BigEndian.PutUint32(b[offsetCRC:], crc32.Update(0, batchCRCTable, b[offsetCRCCoverageStart:]))
	return dst, nil
}
