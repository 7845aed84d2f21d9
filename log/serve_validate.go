package log

import (
	"errors"
	"sync"

	"github.com/stratalog/strata/segment"
)

// A client's batch is checked as Kafka's LogValidator checks a produced batch
// before the leader writes it as it came: the header (magic 2, a length that is
// the batch's, at most the topic's MaxBatchBytes), the CRC-32C, a codec strata
// reads (lz4 is refused: strata could neither read it back nor compact it), no
// control batch, and every record decoded: a compressed payload that
// decompresses, recordCount records whose offset deltas are 0 to
// lastOffsetDelta, and for a compacted topic a key on each. Kafka's timestamp
// bounds (message.timestamp.before/after.max.ms) are not checked: strata has no
// such topic setting, and Kafka's defaults before 4.0 accept any timestamp.

// batchDecoders recycles the decoders that check clients' batches.
var batchDecoders = sync.Pool{New: func() any { return new(segment.Decoder) }}

// checkClientBatch checks batch, produced by a client for a topic whose batches are
// at most maxBatchBytes (compacted: its records must have keys), and returns its
// header. Errors are ErrRecordTooLarge, ErrBatchChecksum, ErrUnsupportedCompression
// and ErrInvalidBatch; none wraps ErrCorrupt.
func checkClientBatch(batch []byte, maxBatchBytes int, compacted bool) (segment.BatchHeader, error) {
	if len(batch) > maxBatchBytes {
		return segment.BatchHeader{}, errorf("strata/log: batch of %d bytes exceeds MaxBatchBytes %d: %w", len(batch), maxBatchBytes, ErrRecordTooLarge)
	}
	h, err := segment.ParseBatchHeader(batch, maxBatchBytes)
	if err != nil {
		return h, invalidBatch(err)
	}
	if len(batch) != h.Size() {
		return h, errorf("strata/log: batch of %d bytes whose header says %d: %w", len(batch), h.Size(), ErrInvalidBatch)
	}
	if _, err := segment.VerifyBatch(batch, maxBatchBytes); err != nil {
		return h, errorf("strata/log: %v: %w", err, ErrBatchChecksum) // not ErrCorrupt: see invalidBatch
	}
	if h.Compression() == segment.CompressionLZ4 {
		return h, errorf("strata/log: batch compressed with lz4: %w", ErrUnsupportedCompression)
	}
	if h.IsControl() {
		return h, errorf("strata/log: a control batch (a transaction marker) cannot be produced: %w", ErrInvalidBatch)
	}
	if h.RecordCount <= 0 || int64(h.LastOffsetDelta)+1 != int64(h.RecordCount) {
		return h, errorf("strata/log: batch of %d records with an offset range of %d: %w", h.RecordCount, int64(h.LastOffsetDelta)+1, ErrInvalidBatch)
	}
	return h, checkRecords(batch, maxBatchBytes, compacted)
}

// checkRecords decodes every record of batch: recordCount of them whose offset
// deltas strictly increase up to lastOffsetDelta (so, with the count checked, are 0
// to recordCount-1), with keys if compacted.
func checkRecords(batch []byte, maxBatchBytes int, compacted bool) error {
	d := batchDecoders.Get().(*segment.Decoder)
	defer func() {
		_ = d.Reset(nil) // keeps no reference to the client's bytes
		batchDecoders.Put(d)
	}()
	d.MaxDecompressedBytes = segment.MaxDecompressedFor(maxBatchBytes)
	if err := d.Reset(batch); err != nil {
		if errors.Is(err, segment.ErrUnsupportedCompression) {
			return errorf("strata/log: %v: %w", err, ErrUnsupportedCompression)
		}
		return invalidBatch(err)
	}
	var r segment.Record
	for {
		ok, err := d.Next(&r)
		if err != nil {
			return invalidBatch(err)
		}
		if !ok {
			return nil
		}
		if compacted && r.Key == nil {
			return errorf("strata/log: record at offset delta %d has no key: a compacted topic keeps records by key: %w", r.Offset-d.Header().BaseOffset, ErrInvalidBatch)
		}
	}
}

// invalidBatch reports err, a segment error about a client's bytes, as
// ErrInvalidBatch: its text only (%v), for it wraps ErrCorrupt, which is about the
// store's own bytes.
func invalidBatch(err error) error {
	return errorf("strata/log: %v: %w", err, ErrInvalidBatch)
}
