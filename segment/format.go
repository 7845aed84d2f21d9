package segment

import (
	"fmt"
	"strings"

	"github.com/stratalog/strata/internal/errs"
)

// Format: the layout of a RecordBatch v2 (magic 2) header, byte for byte as Kafka
// writes it. Every constant in this block is part of the on-disk format described in
// FORMAT.md; changing one makes strata unable to read its own files (and Kafka's).
//
//	offset  size  field
//	     0     8  baseOffset            int64   (not covered by the CRC)
//	     8     4  batchLength           int32   (bytes after this field)
//	    12     4  partitionLeaderEpoch  int32   (not covered by the CRC)
//	    16     1  magic                 int8 = 2
//	    17     4  crc                   uint32  CRC-32C of bytes 21..end
//	    21     2  attributes            int16
//	    23     4  lastOffsetDelta       int32
//	    27     8  baseTimestamp         int64
//	    35     8  maxTimestamp          int64
//	    43     8  producerId            int64
//	    51     2  producerEpoch         int16
//	    53     4  baseSequence          int32
//	    57     4  recordCount           int32
//	    61        records (compressed as one blob when the codec is not none)
const (
	// BatchHeaderSize is the number of bytes of a RecordBatch v2 header, up to and
	// including recordCount. Format.
	BatchHeaderSize = 61
	// BatchOverhead is the number of bytes of a batch that batchLength does not count:
	// baseOffset and batchLength themselves. A batch occupies batchLength+12 bytes. Format.
	BatchOverhead = 12
	// MagicV2 is the only magic byte strata reads and writes. Format.
	MagicV2 = 2

	// Byte positions of the header fields.
	offsetBaseOffset       = 0
	offsetBatchLength      = 8
	offsetLeaderEpoch      = 12
	offsetMagic            = 16
	offsetCRC              = 17
	offsetAttributes       = 21
	offsetLastOffsetDelta  = 23
	offsetBaseTimestamp    = 27
	offsetMaxTimestamp     = 35
	offsetProducerID       = 43
	offsetProducerEpoch    = 51
	offsetBaseSequence     = 53
	offsetRecordCount      = 57
	offsetCRCCoverageStart = offsetAttributes // the CRC covers b[21:]
)

// Format: records and the producer fields.
const (
	// minRecordSize is the smallest record: length, attributes, timestampDelta,
	// offsetDelta, keyLength, valueLength and headerCount, one byte each.
	minRecordSize  = 7
	maxVarintLen32 = 5  // Kafka's cap on a varint (int32)
	maxVarintLen64 = 10 // Kafka's cap on a varlong (int64)

	// Kafka's values of producerId, producerEpoch and baseSequence for a batch
	// without an idempotent producer.
	noProducerID    int64 = -1
	noProducerEpoch int16 = -1
	noSequence      int32 = -1
)

// Format: bits of the batch attributes (int16).
const (
	attributeCompressionMask   = 0x07 // bits 0-2: codec
	attributeLogAppendTime     = 0x08 // bit 3: timestamp type, 0 create time, 1 log-append time
	attributeTransactional     = 0x10 // bit 4
	attributeControl           = 0x20 // bit 5
	attributeDeleteHorizonSet  = 0x40 // bit 6: baseTimestamp holds the compaction delete horizon
	attributeCompressionUnused = 5    // first codec value that no Kafka version defines
)

// Compression is the codec of a batch: the value of bits 0-2 of its attributes.
// Compression is per batch; everything after recordCount is one compressed blob.
type Compression int8

// Format: the codec numbers are Kafka's.
const (
	CompressionNone   Compression = 0
	CompressionGzip   Compression = 1
	CompressionSnappy Compression = 2
	// CompressionLZ4 is defined by Kafka but not supported by strata: decoding such a
	// batch returns ErrUnsupportedCompression, and so does encoding one.
	CompressionLZ4  Compression = 3
	CompressionZstd Compression = 4
)

var compressionNames = [...]string{
	CompressionNone:   "none",
	CompressionGzip:   "gzip",
	CompressionSnappy: "snappy",
	CompressionLZ4:    "lz4",
	CompressionZstd:   "zstd",
}

// String returns the codec's name as Kafka's compression.type spells it
// ("none", "gzip", "snappy", "lz4", "zstd").
func (c Compression) String() string {
	if c >= 0 && int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return fmt.Sprintf("Compression(%d)", int8(c))
}

// ParseCompression returns the codec named s (case-insensitive): "none" (or
// "uncompressed", or ""), "gzip", "snappy", "zstd". "lz4" returns an error wrapping
// ErrUnsupportedCompression; any other name an error wrapping errs.ErrInvalidArgument.
func ParseCompression(s string) (Compression, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", "uncompressed":
		return CompressionNone, nil
	case "gzip":
		return CompressionGzip, nil
	case "snappy":
		return CompressionSnappy, nil
	case "zstd":
		return CompressionZstd, nil
	case "lz4":
		return CompressionNone, fmt.Errorf("%w: %w: %q", errs.ErrInvalidArgument, ErrUnsupportedCompression, s)
	}
	return CompressionNone, fmt.Errorf("%w: unknown compression codec %q (want none, gzip, snappy or zstd)", errs.ErrInvalidArgument, s)
}

// MarshalText implements encoding.TextMarshaler, so a Compression reads well in
// configuration files.
func (c Compression) MarshalText() ([]byte, error) {
	if !c.known() {
		return nil, fmt.Errorf("%w: unknown compression codec %d", errs.ErrInvalidArgument, int8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseCompression.
func (c *Compression) UnmarshalText(text []byte) error {
	parsed, err := ParseCompression(string(text))
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}

// known reports whether c is a codec number Kafka defines (0-4).
func (c Compression) known() bool { return c >= 0 && c < attributeCompressionUnused }

// supported reports whether strata can encode and decode c.
func (c Compression) supported() bool { return c.known() && c != CompressionLZ4 }
