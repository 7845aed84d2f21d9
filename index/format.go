package index

import (
	"encoding/binary"
	"math"
)

// Format: the on-disk layout of both index files, Kafka's byte for byte. Changing any
// of these constants changes the file format; FORMAT.md describes the same bytes.
const (
	// OffsetEntrySize is the size in bytes of one .index entry: relative offset
	// uint32, then position uint32, both big-endian.
	OffsetEntrySize = 8 // Format
	// TimeEntrySize is the size in bytes of one .timeindex entry: timestamp int64
	// (milliseconds), then relative offset uint32, both big-endian.
	TimeEntrySize = 12 // Format

	// MaxRelativeOffset is the greatest offset-base an entry can hold (uint32 field).
	MaxRelativeOffset = math.MaxUint32 // Format
	// MaxPosition is the greatest .log file position an offset entry can hold
	// (uint32 field).
	MaxPosition = math.MaxUint32 // Format
)

// offsetEntry is one .index entry in memory.
type offsetEntry struct {
	relativeOffset uint32
	position       uint32
}

// timeEntry is one .timeindex entry in memory.
type timeEntry struct {
	timestamp      int64
	relativeOffset uint32
}

// Format: .index entry, bytes 0-3 relative offset, bytes 4-7 position.
func putOffsetEntry(b []byte, e offsetEntry) {
	binary.BigEndian.PutUint32(b[0:4], e.relativeOffset)
	binary.BigEndian.PutUint32(b[4:8], e.position)
}

func readOffsetEntry(b []byte) offsetEntry {
	return offsetEntry{
		relativeOffset: binary.BigEndian.Uint32(b[0:4]),
		position:       binary.BigEndian.Uint32(b[4:8]),
	}
}

// Format: .timeindex entry, bytes 0-7 timestamp (two's complement), bytes 8-11
// relative offset.
func putTimeEntry(b []byte, e timeEntry) {
	binary.BigEndian.PutUint64(b[0:8], uint64(e.timestamp))
	binary.BigEndian.PutUint32(b[8:12], e.relativeOffset)
}

func readTimeEntry(b []byte) timeEntry {
	return timeEntry{
		timestamp:      int64(binary.BigEndian.Uint64(b[0:8])),
		relativeOffset: binary.BigEndian.Uint32(b[8:12]),
	}
}

// allZero reports whether b holds only zero bytes: the mark of a preallocated (Kafka)
// or torn file.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
