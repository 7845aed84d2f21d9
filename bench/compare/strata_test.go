package compare

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// baseTimestamp is the timestamp (ms) of strata's records (Append copies a batch
// whose records have no timestamp, to set one; a producer sets them).
const baseTimestamp = 1_795_000_000_000

// strataStore is one strata partition (package partition: the layer of a raw
// append-only log with offsets, what the peers are).
//
// Settings: sync=batch is SyncEveryAppend (the default: an Append returns once an
// fsync covers it; concurrent Appends share fsyncs); sync=none is SyncNone.
// Segments are 2 GiB (segment.MaxSegmentBytes) so that no roll, which fsyncs the
// whole segment under SyncNone, happens inside a timed loop, as in the core
// suite; with segmentRecords the store rolls itself every that many records.
type strataStore struct {
	p              *partition.Partition
	segmentRecords int
	mu             sync.Mutex // guards appended, for the rolls of fill
	appended       int
	reader         *partition.Reader
	locator        *partition.Reader
	noCRC          bool // readers skip CRC checks
}

func openStrata(tb testing.TB, dir string, cfg config) (store, string) {
	opts := &partition.Options{
		SegmentBytes:  segment.MaxSegmentBytes,
		MaxBatchBytes: 2 << 20,
		Sync:          partition.SyncPolicy{Mode: partition.SyncNone},
	}
	if cfg.sync {
		opts.Sync.Mode = partition.SyncEveryAppend
	}
	p, err := partition.Open(dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return &strataStore{p: p, segmentRecords: cfg.segmentRecords}, ""
}

// openStrataNoCRC is strata read without CRC checks (Reader.SetCheckCRCs(false),
// Kafka's check.crcs=false), the semantics of peers that keep no checksum
// (tidwall/wal, raft-wal). Only the read workloads differ from strata's, so it
// runs only those (fixtures).
func openStrataNoCRC(tb testing.TB, dir string, cfg config) (store, string) {
	if !cfg.fixture {
		return nil, "strata-nocrc: only reads differ from strata"
	}
	s, reason := openStrata(tb, dir, cfg)
	if s != nil {
		s.(*strataStore).noCRC = true
	}
	return s, reason
}

func (s *strataStore) prepare(values [][]byte) any {
	records := make([]partition.Record, len(values))
	for i, v := range values {
		records[i] = partition.Record{Timestamp: baseTimestamp + int64(i), Value: v}
	}
	return records
}

func (s *strataStore) append(batch any) error {
	records := batch.([]partition.Record)
	if s.segmentRecords > 0 {
		// Roll before the batch that would start a new segment, so that the last
		// segment is not an empty one.
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.appended >= s.segmentRecords {
			if err := s.p.Roll(); err != nil {
				return err
			}
			s.appended = 0
		}
		s.appended += len(records)
	}
	_, err := s.p.Append(context.Background(), records)
	return err
}

func (s *strataStore) close() error { return s.p.Close() }

// readAll reads with a Reader (1 MiB fetches, CRC verified unless noCRC, records
// not copied; on Linux straight from the segment's memory mapping),
// as the core suite's Read/sequential does.
func (s *strataStore) readAll(n int) (int64, error) {
	if s.reader == nil {
		s.reader = s.p.NewReader(0, 0)
		s.reader.SetCheckCRCs(!s.noCRC)
	}
	s.reader.SetOffset(0)
	var valueBytes int64
	for range n {
		rec, err := s.reader.TryNext()
		if err != nil {
			return valueBytes, err
		}
		if rec == nil {
			return valueBytes, errors.New("strata: end of partition before n records")
		}
		valueBytes += int64(len(rec.Value))
	}
	return valueBytes, nil
}

// get reads the record at offset i with a Reader that fetches one batch: Locate
// (segment, index, header scan), the read of the batch, its CRC, and decoding up
// to the record.
func (s *strataStore) get(i int64) ([]byte, error) {
	if s.locator == nil {
		s.locator = s.p.NewReader(0, 1)
		s.locator.SetCheckCRCs(!s.noCRC)
	}
	s.locator.SetOffset(i)
	rec, err := s.locator.TryNext()
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.Offset != i {
		return nil, errors.New("strata: record not found")
	}
	return rec.Value, nil
}

func (s *strataStore) segments() int { return s.p.Stats().Segments }

// strataBatchBytes returns values encoded as one uncompressed strata batch.
func strataBatchBytes(tb testing.TB, values [][]byte) []byte {
	records := make([]partition.Record, len(values))
	for i, v := range values {
		records[i] = partition.Record{Timestamp: baseTimestamp + int64(i), Value: v}
	}
	batch, err := segment.AppendBatch(nil, records, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return batch
}
