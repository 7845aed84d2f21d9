package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"github.com/stratalog/strata/internal/errs"
)

// BatchOptions are the batch-level fields of a batch that AppendBatch writes. The
// zero value (and a nil *BatchOptions) is a plain uncompressed batch from a producer
// that is neither idempotent nor transactional: producerId, producerEpoch and
// baseSequence are written as Kafka's -1 ("none"), and partitionLeaderEpoch as 0.
type BatchOptions struct {
	// Compression is the codec of the records. CompressionLZ4 is not supported.
	Compression Compression

	// Idempotent says the batch carries a producer identity: ProducerID,
	// ProducerEpoch and BaseSequence are written as given and must not be negative,
	// except BaseSequence -1 in a Control batch (Kafka's markers carry none).
	// When Idempotent is false (the zero value) the three fields are written as -1,
	// and each of them must be 0 or -1 (anything else is an error, not silently
	// dropped). Kafka's producerId -1 means "no producer", which is why a separate
	// flag, and not the zero value of ProducerID, says whether there is one.
	Idempotent    bool
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32 // sequence number of the first record

	// PartitionLeaderEpoch is written as given; the log may stamp it later with
	// SetPartitionLeaderEpoch (the CRC does not cover it).
	PartitionLeaderEpoch int32

	// Transactional sets attribute bit 4; it requires Idempotent.
	Transactional bool
	// Control sets attribute bit 5 (the batch holds a transaction marker); it
	// requires Idempotent.
	Control bool
	// LogAppendTime sets attribute bit 3: readers take MaxTimestamp as the timestamp
	// of every record of the batch.
	LogAppendTime bool
}

// validate checks o; every problem is an error wrapping errs.ErrInvalidArgument.
func (o *BatchOptions) validate() error {
	switch {
	case !o.Compression.known():
		return fmt.Errorf("%w: unknown compression codec %d", errs.ErrInvalidArgument, int8(o.Compression))
	case !o.Compression.supported():
		return fmt.Errorf("%w: %w: %v", errs.ErrInvalidArgument, ErrUnsupportedCompression, o.Compression)
	}
	if o.Idempotent {
		// A control batch (a transaction marker) has no sequence: Kafka writes it
		// with baseSequence -1 (MemoryRecords.withEndTransactionMarker).
		markerWithoutSequence := o.Control && o.BaseSequence == noSequence
		if o.ProducerID < 0 || o.ProducerEpoch < 0 || (o.BaseSequence < 0 && !markerWithoutSequence) {
			return fmt.Errorf("%w: idempotent batch with producer id %d, epoch %d, base sequence %d: none may be negative",
				errs.ErrInvalidArgument, o.ProducerID, o.ProducerEpoch, o.BaseSequence)
		}
		return nil
	}
	if (o.ProducerID != 0 && o.ProducerID != noProducerID) ||
		(o.ProducerEpoch != 0 && o.ProducerEpoch != noProducerEpoch) ||
		(o.BaseSequence != 0 && o.BaseSequence != noSequence) {
		return fmt.Errorf("%w: producer id %d, epoch %d, base sequence %d given without Idempotent",
			errs.ErrInvalidArgument, o.ProducerID, o.ProducerEpoch, o.BaseSequence)
	}
	if o.Transactional || o.Control {
		return fmt.Errorf("%w: a transactional or control batch needs a producer (Idempotent)", errs.ErrInvalidArgument)
	}
	return nil
}

// attributes returns the attributes field for o.
func (o *BatchOptions) attributes() int16 {
	a := int16(o.Compression)
	if o.LogAppendTime {
		a |= attributeLogAppendTime
	}
	if o.Transactional {
		a |= attributeTransactional
	}
	if o.Control {
		a |= attributeControl
	}
	return a
}

// maxBatchLength is the greatest batchLength: the field is an int32.
const maxBatchLength = math.MaxInt32

// AppendBatch encodes records as one RecordBatch v2, appends it to dst and returns
// the extended slice. A nil opts means the zero BatchOptions.
//
// The batch is written as a producer sends it: baseOffset 0 (the log stamps the real
// one with SetBaseOffset), offsetDelta i for records[i] (Record.Offset is ignored),
// lastOffsetDelta len(records)-1, baseTimestamp the first record's timestamp (Kafka's
// convention; records need not be in time order, deltas may be negative),
// maxTimestamp the greatest, and the CRC computed last.
//
// Errors (dst is then returned unchanged): no records, or invalid options, wrap
// errs.ErrInvalidArgument; a record or batch whose length does not fit the int32
// fields wraps errs.ErrRecordTooLarge. The caller checks its own maximum batch size
// against the length of what was appended.
//
// With CompressionNone and enough capacity in dst, AppendBatch does not allocate.
// With compression it encodes into a pooled scratch buffer and uses pooled
// compressors, so a steady stream of batches allocates O(1) per batch.
func AppendBatch(dst []byte, records []Record, opts *BatchOptions) ([]byte, error) {
	var o BatchOptions
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return dst, err
	}
	if len(records) == 0 {
		return dst, fmt.Errorf("%w: a batch needs at least one record", errs.ErrInvalidArgument)
	}
	if len(records) > math.MaxInt32 {
		return dst, fmt.Errorf("%w: %d records in one batch", errs.ErrRecordTooLarge, len(records))
	}
	baseTimestamp := records[0].Timestamp

	start := len(dst)
	var maxTimestamp int64
	var err error
	if o.Compression == CompressionNone {
		grown := slices.Grow(dst, BatchHeaderSize)[:start+BatchHeaderSize]
		grown, maxTimestamp, err = appendRecords(grown, records, baseTimestamp, -1)
		if err != nil {
			return dst, err
		}
		dst = grown
	} else {
		scratch := getScratch()
		*scratch, maxTimestamp, err = appendRecords((*scratch)[:0], records, baseTimestamp, -1)
		if err == nil {
			dst = slices.Grow(dst, BatchHeaderSize)[:start+BatchHeaderSize]
			dst, err = compress(dst, o.Compression, *scratch)
			if err == nil && len(dst)-start-BatchOverhead > maxBatchLength {
				err = fmt.Errorf("%w: compressed batch of %d records takes %d bytes",
					errs.ErrRecordTooLarge, len(records), len(dst)-start)
			}
		}
		putScratch(scratch)
		if err != nil {
			return dst[:start], err
		}
	}

	b := dst[start:]
	_ = b[BatchHeaderSize-1]
	binary.BigEndian.PutUint64(b[offsetBaseOffset:], 0)
	binary.BigEndian.PutUint32(b[offsetBatchLength:], uint32(len(b)-BatchOverhead))
	binary.BigEndian.PutUint32(b[offsetLeaderEpoch:], uint32(o.PartitionLeaderEpoch))
	b[offsetMagic] = MagicV2
	binary.BigEndian.PutUint16(b[offsetAttributes:], uint16(o.attributes()))
	binary.BigEndian.PutUint32(b[offsetLastOffsetDelta:], uint32(len(records)-1))
	binary.BigEndian.PutUint64(b[offsetBaseTimestamp:], uint64(baseTimestamp))
	binary.BigEndian.PutUint64(b[offsetMaxTimestamp:], uint64(maxTimestamp))
	producerID, producerEpoch, baseSequence := noProducerID, noProducerEpoch, noSequence
	if o.Idempotent {
		producerID, producerEpoch, baseSequence = o.ProducerID, o.ProducerEpoch, o.BaseSequence
	}
	binary.BigEndian.PutUint64(b[offsetProducerID:], uint64(producerID))
	binary.BigEndian.PutUint16(b[offsetProducerEpoch:], uint16(producerEpoch))
	binary.BigEndian.PutUint32(b[offsetBaseSequence:], uint32(baseSequence))
	binary.BigEndian.PutUint32(b[offsetRecordCount:], uint32(len(records)))
	binary.BigEndian.PutUint32(b[offsetCRC:], crc32.Update(0, batchCRCTable, b[offsetCRCCoverageStart:]))
	return dst, nil
}

// recordsSizeLowerBound returns a lower bound of the size of the encoded records:
// what appendRecords may reserve without ever allocating more than needed.
func recordsSizeLowerBound(records []Record) int {
	size := 0
	for i := range records {
		size += minRecordSize + len(records[i].Key) + len(records[i].Value)
	}
	return size
}

// maxRecordsSize is the greatest size of the records of a batch: batchLength, an
// int32, counts them and 49 bytes of header.
const maxRecordsSize = maxBatchLength - (BatchHeaderSize - BatchOverhead)

// recordFixedBound bounds the bytes of a record other than its key, value and
// headers: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength
// and headerCount at their longest.
const recordFixedBound = 5*maxVarintLen32 + 1 + maxVarintLen64

// appendRecords appends the encoded records to dst and returns it with the greatest
// timestamp. With baseOffset -1 the i-th record gets offsetDelta i; otherwise each
// record keeps its Offset, as offsetDelta Offset-baseOffset (compaction's rewrite).
//
// A record starts with the varint of its length, which is known only once the record
// is encoded. Each record is written in one pass, its body placed after as many bytes
// as the previous record's length varint took (records of a batch are usually of
// similar size); in the rare case the guess is wrong the body is moved by a byte or
// two. dst grows only when a record might not fit (by a bound on its size), and then
// by what the record surely takes, so that a dst with enough capacity for the exact
// result is never reallocated.
func appendRecords(dst []byte, records []Record, baseTimestamp, baseOffset int64) ([]byte, int64, error) {
	maxTimestamp := baseTimestamp
	recordsStart := len(dst)
	lengthSize := 2 // length varint of the previous record: 2 bytes for 64 to 8191
	for i := range records {
		r := &records[i]
		maxTimestamp = max(maxTimestamp, r.Timestamp)
		offsetDelta := int32(i)
		if baseOffset >= 0 {
			offsetDelta = int32(r.Offset - baseOffset)
		}
		p := len(dst)
		bound := recordFixedBound + len(r.Key) + len(r.Value)
		if len(r.Headers) > 0 {
			bound += headersBound(r.Headers)
		}
		if bound > cap(dst)-p || bound > maxRecordsSize-(p-recordsStart) {
			// Near the end of dst's capacity or of the batch's size: size the
			// record exactly before deciding.
			body := recordBodySize(r, offsetDelta, baseTimestamp)
			lengthSize = uvarintLen(uint64(body) << 1)
			size := lengthSize + body
			if size > maxRecordsSize-(p-recordsStart) {
				return dst, 0, fmt.Errorf("%w: the records of the batch take more than %d bytes",
					errs.ErrRecordTooLarge, maxRecordsSize)
			}
			if size > cap(dst)-p {
				// Growing anyway: make room for the records still to come too, at
				// least as much as they will surely take.
				dst = slices.Grow(dst, size+recordsSizeLowerBound(records[i+1:]))
			}
		}

		b := dst[:cap(dst)]
		q := p + lengthSize // the body starts here
		b[q] = 0            // record attributes: unused
		q++
		u := zigzag64(r.Timestamp - baseTimestamp)
		n := putUvarintFast(b[q:], u)
		if n == 0 {
			n = putUvarintSlow(b[q:], u)
		}
		q += n
		u = uint64(offsetDelta) << 1 // never negative, so zig-zag is just twice
		if n = putUvarintFast(b[q:], u); n == 0 {
			n = putUvarintSlow(b[q:], u)
		}
		q += n
		if r.Key == nil {
			b[q] = 1 // zig-zag -1: null
			q++
		} else {
			u = uint64(len(r.Key)) << 1
			if n = putUvarintFast(b[q:], u); n == 0 {
				n = putUvarintSlow(b[q:], u)
			}
			q += n
			q += copy(b[q:], r.Key)
		}
		if r.Value == nil {
			b[q] = 1
			q++
		} else {
			u = uint64(len(r.Value)) << 1
			if n = putUvarintFast(b[q:], u); n == 0 {
				n = putUvarintSlow(b[q:], u)
			}
			q += n
			q += copy(b[q:], r.Value)
		}
		if len(r.Headers) == 0 {
			b[q] = 0
			q++
		} else {
			q = putHeaders(b, q, r.Headers)
		}

		body := q - (p + lengthSize)
		u = uint64(body) << 1
		if n = uvarintLen(u); n != lengthSize {
			// Wrong guess: move the body to just after a length varint of n bytes.
			copy(b[p+n:], b[p+lengthSize:q])
			q += n - lengthSize
			lengthSize = n
		}
		if putUvarintFast(b[p:], u) == 0 {
			putUvarintSlow(b[p:], u)
		}
		dst = b[:q]
	}
	return dst, maxTimestamp, nil
}

// headersBound bounds the size of the encoding of headers, count excluded.
func headersBound(headers []Header) int {
	size := 0
	for i := range headers {
		size += 2*maxVarintLen32 + len(headers[i].Key) + len(headers[i].Value)
	}
	return size
}

// recordBodySize returns the length of the record's encoding after its length
// varint.
func recordBodySize(r *Record, offsetDelta int32, baseTimestamp int64) int {
	size := 1 + // attributes
		uvarintLen(zigzag64(r.Timestamp-baseTimestamp)) +
		uvarintLen(uint64(offsetDelta)<<1) +
		1 + // headerCount when there are no headers
		1 + 1 // the key's and the value's length when they are null
	if r.Key != nil {
		size += uvarintLen(uint64(len(r.Key))<<1) - 1 + len(r.Key)
	}
	if r.Value != nil {
		size += uvarintLen(uint64(len(r.Value))<<1) - 1 + len(r.Value)
	}
	if len(r.Headers) > 0 {
		size += headersSize(r.Headers) - 1
	}
	return size
}

// headersSize returns the length of the encoding of headers, count included.
func headersSize(headers []Header) int {
	size := uvarintLen(uint64(len(headers)) << 1)
	for i := range headers {
		h := &headers[i]
		size += uvarintLen(uint64(len(h.Key))<<1) + len(h.Key) + 1
		if h.Value != nil {
			size += uvarintLen(uint64(len(h.Value))<<1) - 1 + len(h.Value)
		}
	}
	return size
}

// putHeaders writes headers, count first, at b[p:] and returns the position after.
func putHeaders(b []byte, p int, headers []Header) int {
	p += putUvarint(b[p:], uint64(len(headers))<<1)
	for i := range headers {
		h := &headers[i]
		p += putUvarint(b[p:], uint64(len(h.Key))<<1)
		p += copy(b[p:], h.Key)
		if h.Value == nil {
			b[p] = 1
			p++
		} else {
			p += putUvarint(b[p:], uint64(len(h.Value))<<1)
			p += copy(b[p:], h.Value)
		}
	}
	return p
}
