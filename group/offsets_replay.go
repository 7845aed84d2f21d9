package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// replayReadBytes is how much of the offsets log replay reads at a time.
const replayReadBytes = 1 << 20

// replay reads the whole partition into the table, batch by batch, as Kafka's
// loadGroupsAndOffsets does: a plain batch's records apply at once; a
// transactional batch's offsets are pending for its producer; a COMMIT marker of
// the producer makes them committed (unless committed later in the log), an ABORT
// marker drops them. Pending offsets with no marker yet stay pending. It stops at
// a batch that fails its checks (CRC, bounds), and skips records that do not
// decode.
func (s *PartitionOffsetStore) replay() error {
	offset := s.p.StartOffset()
	var buf []byte
	var dec segment.Decoder
	for {
		b, err := s.p.ReadBatches(buf[:0], offset, replayReadBytes)
		if err != nil {
			return errorf("strata/group: replaying offsets log %s: %w", s.p.Dir(), err)
		}
		if len(b) == 0 {
			return nil
		}
		buf = b
		for len(b) > 0 {
			h, err := segment.ParseBatchHeader(b, math.MaxInt)
			if err == nil && h.Size() > len(b) {
				err = fmt.Errorf("%w: batch of %d bytes with %d read", errs.ErrCorrupt, h.Size(), len(b))
			}
			if err == nil {
				_, err = segment.VerifyBatch(b[:h.Size()], math.MaxInt)
			}
			if err == nil {
				err = s.replayBatch(&dec, b[:h.Size()], &h, offset)
			}
			if err != nil {
				return errorf("strata/group: replaying offsets log %s: %w", s.p.Dir(), s.corruptBatch(offset, err))
			}
			b = b[h.Size():]
			offset = max(offset, h.NextOffset())
		}
	}
}

// replayBatch applies the records of batch (its header h) at or above from.
func (s *PartitionOffsetStore) replayBatch(dec *segment.Decoder, batch []byte, h *segment.BatchHeader, from int64) error {
	if h.IsControl() {
		if typ, ok := markerType(dec, batch); ok && h.ProducerID >= 0 && h.LastOffset() >= from {
			s.table.complete(h.ProducerID, typ == partition.MarkerCommit)
		}
		return nil
	}
	if err := dec.Reset(batch); err != nil {
		return err
	}
	producerID := partition.NoProducerID
	if h.IsTransactional() {
		producerID = h.ProducerID
	}
	var r segment.Record
	for {
		ok, err := dec.Next(&r)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if r.Offset < from {
			continue
		}
		if err := s.table.replay(r.Key, r.Value, r.Offset, producerID); err != nil {
			s.skipped = append(s.skipped, SkippedRecord{Offset: r.Offset, Err: s.corrupt(r.Offset, err)})
		}
	}
}

// markerType returns the type of the transaction marker in a control batch, or
// false if it holds none (the cleaner may have emptied it) or another control
// record: Kafka's control record key is version int16, type int16.
func markerType(dec *segment.Decoder, batch []byte) (partition.MarkerType, bool) {
	if dec.Reset(batch) != nil {
		return 0, false
	}
	var r segment.Record
	if ok, err := dec.Next(&r); !ok || err != nil || len(r.Key) < 4 {
		return 0, false
	}
	switch typ := partition.MarkerType(binary.BigEndian.Uint16(r.Key[2:4])); typ {
	case partition.MarkerCommit, partition.MarkerAbort:
		return typ, true
	default:
		return 0, false
	}
}

// corruptBatch describes a batch at offset that fails its checks as a
// *CorruptError, unless err already is one.
func (s *PartitionOffsetStore) corruptBatch(offset int64, err error) error {
	if _, ok := errors.AsType[*errs.CorruptError](err); ok {
		return err
	}
	path, position := s.p.Dir(), int64(-1)
	if loc, lerr := s.p.Locate(offset); lerr == nil {
		path, position = loc.Path, loc.Position
	}
	return errs.Corruptf(path, position, "offsets log batch holding offset %d: %v", offset, err)
}

// replay applies one record of the log at position; producerID is the producer
// of a transactional batch, NoProducerID otherwise. A transactional batch's
// offsets (and tombstones of them) concern the producer's pending offsets; its
// group records, which strata never writes, apply at once, as in Kafka.
func (t *offsetTable) replay(key, value []byte, position, producerID int64) error {
	k, err := decodeKey(key)
	if err != nil {
		return err
	}
	var w Write
	switch k.kind {
	case offsetRecord:
		var o CommittedOffset
		if value != nil {
			if o, err = decodeOffsetValue(value); err != nil {
				return err
			}
		}
		switch {
		case producerID != partition.NoProducerID && value == nil:
			t.removePending(k.group, producerID, k.partition)
			return nil
		case producerID != partition.NoProducerID:
			t.applyTxn(k.group, producerID, map[TopicPartition]CommittedOffset{k.partition: o}, position)
			return nil
		case value == nil:
			w.Deletes = []TopicPartition{k.partition}
		default:
			w.Commits = map[TopicPartition]CommittedOffset{k.partition: o}
		}
	case groupRecord:
		if value == nil {
			w.DeleteGroup = true
			break
		}
		g, err := decodeGroupValue(value)
		if err != nil {
			return err
		}
		w.Group = &g
	}
	t.apply(k.group, w, position)
	return nil
}

// removePending removes producerID's pending offset of tp in group.
func (t *offsetTable) removePending(group string, producerID int64, tp TopicPartition) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.groups[group]; g != nil {
		t.removePendingLocked(group, g, producerID, tp)
		t.dropIfEmptyLocked(group, g)
	}
}
