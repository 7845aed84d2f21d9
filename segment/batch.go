package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/stratalog/strata/internal/errs"
)

// batchCRCTable is the CRC-32C (Castagnoli) table; crc32 uses the CPU's instruction
// for it where there is one. Format: the batch checksum is CRC-32C.
var batchCRCTable = crc32.MakeTable(crc32.Castagnoli)

// Header is one record header: a non-null key and a value that may be null.
type Header struct {
	Key   string
	Value []byte // nil = null value
}

// Record is one record of a batch.
type Record struct {
	// Offset is the record's absolute offset. Decoding sets it; encoding ignores it
	// (the i-th record of a batch gets offsetDelta i).
	Offset int64
	// Timestamp is in milliseconds since the Unix epoch.
	Timestamp int64
	// Key is nil for a null key; an empty non-nil slice is an empty key.
	Key []byte
	// Value is nil for a null value (a tombstone).
	Value   []byte
	Headers []Header
}

// BatchHeader is the decoded 61-byte header of a RecordBatch v2. Its fields are the
// on-disk fields, in order; see FORMAT.md.
type BatchHeader struct {
	BaseOffset           int64
	Length               int32 // batchLength: bytes after this field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordCount          int32
}

// errCorrupt wraps errs.ErrCorrupt with a reason; the caller adds the file and the
// position (errs.Corruptf).
func errCorrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errs.ErrCorrupt, fmt.Sprintf(format, args...))
}

// ParseBatchHeader decodes the header at the start of b, which must hold at least
// BatchHeaderSize bytes (it may hold more: the records, or the batches that follow).
//
// It checks that the magic is 2, that the batch is at least a header long and at most
// maxBatchBytes long (Length+12, so that a corrupt length is refused before anyone
// allocates a buffer for it), that baseOffset, lastOffsetDelta and recordCount are not
// negative, that recordCount <= lastOffsetDelta+1 (offset deltas strictly increase),
// and that the batch's last offset does not overflow an int64. It
// does not check the CRC (VerifyBatch does) nor the codec (Decoder.Reset does). Every
// error wraps errs.ErrCorrupt; the caller adds file and position.
func ParseBatchHeader(b []byte, maxBatchBytes int) (BatchHeader, error) {
	var h BatchHeader
	if len(b) < BatchHeaderSize {
		return h, errCorrupt("batch header truncated: %d bytes, want %d", len(b), BatchHeaderSize)
	}
	b = b[:BatchHeaderSize]
	h.BaseOffset = int64(binary.BigEndian.Uint64(b[offsetBaseOffset:]))
	h.Length = int32(binary.BigEndian.Uint32(b[offsetBatchLength:]))
	h.PartitionLeaderEpoch = int32(binary.BigEndian.Uint32(b[offsetLeaderEpoch:]))
	h.Magic = int8(b[offsetMagic])
	h.CRC = binary.BigEndian.Uint32(b[offsetCRC:])
	h.Attributes = int16(binary.BigEndian.Uint16(b[offsetAttributes:]))
	h.LastOffsetDelta = int32(binary.BigEndian.Uint32(b[offsetLastOffsetDelta:]))
	h.BaseTimestamp = int64(binary.BigEndian.Uint64(b[offsetBaseTimestamp:]))
	h.MaxTimestamp = int64(binary.BigEndian.Uint64(b[offsetMaxTimestamp:]))
	h.ProducerID = int64(binary.BigEndian.Uint64(b[offsetProducerID:]))
	h.ProducerEpoch = int16(binary.BigEndian.Uint16(b[offsetProducerEpoch:]))
	h.BaseSequence = int32(binary.BigEndian.Uint32(b[offsetBaseSequence:]))
	h.RecordCount = int32(binary.BigEndian.Uint32(b[offsetRecordCount:]))

	if h.Magic != MagicV2 {
		return h, errCorrupt("batch magic %d, want %d", h.Magic, MagicV2)
	}
	size := int64(h.Length) + BatchOverhead
	if size < BatchHeaderSize {
		return h, errCorrupt("batch length %d: a batch is at least %d bytes", h.Length, BatchHeaderSize)
	}
	if size > int64(maxBatchBytes) {
		return h, errCorrupt("batch size %d larger than the maximum %d", size, maxBatchBytes)
	}
	if h.LastOffsetDelta < 0 {
		return h, errCorrupt("batch lastOffsetDelta %d is negative", h.LastOffsetDelta)
	}
	if h.RecordCount < 0 {
		return h, errCorrupt("batch recordCount %d is negative", h.RecordCount)
	}
	if int64(h.RecordCount) > int64(h.LastOffsetDelta)+1 {
		return h, errCorrupt("batch recordCount %d exceeds lastOffsetDelta %d + 1", h.RecordCount, h.LastOffsetDelta)
	}
	if h.BaseOffset < 0 {
		return h, errCorrupt("batch baseOffset %d is negative", h.BaseOffset)
	}
	if h.BaseOffset > math.MaxInt64-int64(h.LastOffsetDelta)-1 {
		return h, errCorrupt("batch baseOffset %d + lastOffsetDelta %d overflows", h.BaseOffset, h.LastOffsetDelta)
	}
	return h, nil
}

// Size returns the number of bytes the whole batch occupies: Length + 12.
func (h *BatchHeader) Size() int { return int(h.Length) + BatchOverhead }

// LastOffset returns the offset of the batch's last record: BaseOffset +
// LastOffsetDelta. After compaction the record with that offset may be gone.
func (h *BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset returns the offset that follows the batch: LastOffset + 1.
func (h *BatchHeader) NextOffset() int64 { return h.LastOffset() + 1 }

// Compression returns the codec of the batch's records (attribute bits 0-2).
func (h *BatchHeader) Compression() Compression {
	return Compression(h.Attributes & attributeCompressionMask)
}

// IsTransactional reports attribute bit 4: the batch belongs to a transaction.
func (h *BatchHeader) IsTransactional() bool { return h.Attributes&attributeTransactional != 0 }

// IsControl reports attribute bit 5: the batch holds a control record (a
// transaction marker), not user data.
func (h *BatchHeader) IsControl() bool { return h.Attributes&attributeControl != 0 }

// LogAppendTime reports attribute bit 3: the records' timestamp is the time the log
// appended the batch, MaxTimestamp, instead of each record's create time.
func (h *BatchHeader) LogAppendTime() bool { return h.Attributes&attributeLogAppendTime != 0 }

// HasDeleteHorizon reports attribute bit 6: compaction has set a delete horizon, and
// BaseTimestamp holds it (the records' timestamp deltas are relative to it).
func (h *BatchHeader) HasDeleteHorizon() bool {
	return h.Attributes&attributeDeleteHorizonSet != 0
}

// Options returns the BatchOptions that reproduce the header's attributes, producer
// fields and leader epoch, for code that re-encodes the records of a batch.
func (h *BatchHeader) Options() BatchOptions {
	o := BatchOptions{
		Compression:          h.Compression(),
		PartitionLeaderEpoch: h.PartitionLeaderEpoch,
		Transactional:        h.IsTransactional(),
		Control:              h.IsControl(),
		LogAppendTime:        h.LogAppendTime(),
	}
	if h.ProducerID >= 0 {
		o.Idempotent = true
		o.ProducerID = h.ProducerID
		o.ProducerEpoch = h.ProducerEpoch
		o.BaseSequence = h.BaseSequence
	}
	return o
}

// VerifyBatch checks a whole batch: b must hold exactly one batch (len(b) equal to
// the header's Size), the header must be valid for ParseBatchHeader, and the CRC-32C
// of b[21:] must equal the stored crc. Every error wraps errs.ErrCorrupt.
func VerifyBatch(b []byte, maxBatchBytes int) (BatchHeader, error) {
	h, err := ParseBatchHeader(b, maxBatchBytes)
	if err != nil {
		return h, err
	}
	if len(b) != h.Size() {
		return h, errCorrupt("batch is %d bytes, its header says %d", len(b), h.Size())
	}
	if crc := crc32.Update(0, batchCRCTable, b[offsetCRCCoverageStart:]); crc != h.CRC {
		return h, errCorrupt("batch crc %#08x, computed %#08x", h.CRC, crc)
	}
	return h, nil
}

// SetBaseOffset rewrites the baseOffset of the batch at the start of b (bytes 0-7).
// The CRC does not cover them, so the batch stays valid.
func SetBaseOffset(b []byte, offset int64) {
	binary.BigEndian.PutUint64(b[offsetBaseOffset:], uint64(offset))
}

// SetPartitionLeaderEpoch rewrites the partitionLeaderEpoch of the batch at the start
// of b (bytes 12-15). The CRC does not cover them, so the batch stays valid.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offsetLeaderEpoch:], uint32(epoch))
}
