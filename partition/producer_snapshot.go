package partition

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// Producer snapshot files, Kafka's `<offset>.snapshot` byte for byte (its
// ProducerStateManager.writeSnapshot, schema ProducerSnapshot version 1): the
// producer state of every batch below offset. Big-endian:
//
//	version int16 (1) | crc uint32 | count int32 | count entries of 46 bytes:
//	producerId int64 | epoch int16 | lastSequence int32 | lastOffset int64 |
//	offsetDelta int32 | timestamp int64 | coordinatorEpoch int32 |
//	currentTxnFirstOffset int64
//
// crc is the CRC-32C of every byte after it. An entry keeps the producer's newest
// batch only (lastOffset -1: none), as Kafka's does: after a load, a retry of an
// older one of its last five batches is out of order, not a duplicate. FORMAT.md
// describes the file.
const (
	// SnapshotSuffix ends the name of a producer snapshot file.
	SnapshotSuffix = ".snapshot" // format

	snapshotVersion      = 1  // format
	snapshotHeaderBytes  = 10 // format: version, crc, count
	snapshotEntryBytes   = 46 // format
	snapshotCRCOffset    = 2  // format
	snapshotEntriesStart = 6  // format: where the CRC starts
)

// maxSnapshotBytes bounds what Open reads of a snapshot file (about 5.8 million
// producers): a larger file is treated as damaged.
const maxSnapshotBytes = 256 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeSnapshot returns the snapshot file of the producers, sorted by id.
func encodeSnapshot(s *producerStates) []byte {
	ids := make([]int64, 0, len(s.producers))
	for id := range s.producers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := make([]byte, snapshotHeaderBytes, snapshotHeaderBytes+snapshotEntryBytes*len(ids))
	binary.BigEndian.PutUint16(b, snapshotVersion)
	binary.BigEndian.PutUint32(b[snapshotEntriesStart:], uint32(len(ids)))
	for _, id := range ids {
		e := s.producers[id]
		last := producerBatch{lastSequence: NoSequence, lastOffset: -1}
		if n := len(e.batches); n > 0 {
			last = e.batches[n-1]
		}
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(e.epoch))
		b = binary.BigEndian.AppendUint32(b, uint32(last.lastSequence))
		b = binary.BigEndian.AppendUint64(b, uint64(last.lastOffset))
		b = binary.BigEndian.AppendUint32(b, uint32(last.offsetDelta))
		b = binary.BigEndian.AppendUint64(b, uint64(e.lastTimestamp))
		b = binary.BigEndian.AppendUint32(b, uint32(e.coordinatorEpoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.txnFirstOffset))
	}
	binary.BigEndian.PutUint32(b[snapshotCRCOffset:], crc32.Checksum(b[snapshotEntriesStart:], castagnoli))
	return b
}

// decodeSnapshot parses a snapshot file into s (which it fills only if the whole
// file is valid); every error wraps ErrCorrupt.
func decodeSnapshot(b []byte) (producerStates, error) {
	if len(b) < snapshotHeaderBytes {
		return producerStates{}, fmt.Errorf("%w: %d bytes, shorter than the header", errs.ErrCorrupt, len(b))
	}
	if v := int16(binary.BigEndian.Uint16(b)); v != snapshotVersion {
		return producerStates{}, fmt.Errorf("%w: version %d, want %d", errs.ErrCorrupt, v, snapshotVersion)
	}
	if got, want := crc32.Checksum(b[snapshotEntriesStart:], castagnoli), binary.BigEndian.Uint32(b[snapshotCRCOffset:]); got != want {
		return producerStates{}, fmt.Errorf("%w: CRC-32C %08x, recorded %08x", errs.ErrCorrupt, got, want)
	}
	count := int64(int32(binary.BigEndian.Uint32(b[snapshotEntriesStart:])))
	if count < 0 || int64(len(b)) != snapshotHeaderBytes+count*snapshotEntryBytes {
		return producerStates{}, fmt.Errorf("%w: %d entries in %d bytes", errs.ErrCorrupt, count, len(b))
	}
	s := producerStates{producers: make(map[int64]*producerEntry, count)}
	for p := snapshotHeaderBytes; p < len(b); p += snapshotEntryBytes {
		f := b[p : p+snapshotEntryBytes]
		id := int64(binary.BigEndian.Uint64(f))
		e := &producerEntry{
			epoch:            int16(binary.BigEndian.Uint16(f[8:])),
			lastTimestamp:    int64(binary.BigEndian.Uint64(f[26:])),
			coordinatorEpoch: int32(binary.BigEndian.Uint32(f[34:])),
			txnFirstOffset:   int64(binary.BigEndian.Uint64(f[38:])),
		}
		last := producerBatch{
			lastSequence: int32(binary.BigEndian.Uint32(f[10:])),
			lastOffset:   int64(binary.BigEndian.Uint64(f[14:])),
			offsetDelta:  int32(binary.BigEndian.Uint32(f[22:])),
			timestamp:    e.lastTimestamp,
		}
		if id < 0 || last.offsetDelta < 0 || last.lastOffset < -1 || e.txnFirstOffset < -1 {
			return producerStates{}, fmt.Errorf("%w: invalid entry at byte %d", errs.ErrCorrupt, p)
		}
		if s.producers[id] != nil {
			return producerStates{}, fmt.Errorf("%w: producer %d twice", errs.ErrCorrupt, id)
		}
		if last.lastOffset >= 0 {
			e.batches = []producerBatch{last}
		}
		s.producers[id] = e
	}
	return s, nil
}

// snapshotName is the file name of the snapshot at offset.
func snapshotName(offset int64) string {
	return fmt.Sprintf("%020d%s", offset, SnapshotSuffix)
}

// parseSnapshotName returns the offset of a snapshot file name.
func parseSnapshotName(name string) (int64, bool) {
	base, suffix, ok := segment.ParseFileName(name)
	return base, ok && suffix == SnapshotSuffix
}

// readSnapshot reads and decodes the snapshot at offset in dir.
func readSnapshot(fsys vfs.FS, dir string, offset int64) (producerStates, error) {
	path := filepath.Join(dir, snapshotName(offset))
	b, err := vfs.ReadFileLimit(fsys, path, maxSnapshotBytes)
	if errors.Is(err, vfs.ErrTooLarge) {
		return producerStates{}, errs.Corruptf(path, 0, "%v", err)
	}
	if err != nil {
		return producerStates{}, err
	}
	s, err := decodeSnapshot(b)
	if err != nil {
		return producerStates{}, errs.Corruptf(path, 0, "%v", err)
	}
	return s, nil
}
