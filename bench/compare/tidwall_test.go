package compare

import (
	"sync"
	"testing"

	"github.com/tidwall/wal"
)

// tidwallStore is a github.com/tidwall/wal log.
//
// Settings: sync=batch is NoSync false (Write and WriteBatch fsync before they
// return); sync=none is NoSync true. Defaults otherwise: 20 MB segments (a
// segment change fsyncs the finished segment, even with NoSync), binary format,
// a cache of 2 segments. NoCopy is on, so that Read returns a slice of the
// library's buffer as strata's Reader does.
//
// Indexes must be contiguous and are chosen by the caller (Write(index, data)),
// so concurrent writers take a lock around choosing the index and writing; the
// log itself serializes writes under its own lock and fsyncs each one.
type tidwallStore struct {
	log   *wal.Log
	dir   string
	mu    sync.Mutex // guards next and batch
	next  uint64     // index of the next entry; the first is 1
	batch wal.Batch
}

func openTidwall(tb testing.TB, dir string, cfg config) (store, string) {
	opts := &wal.Options{
		NoSync:           !cfg.sync,
		SegmentSize:      wal.DefaultOptions.SegmentSize,
		LogFormat:        wal.Binary,
		SegmentCacheSize: wal.DefaultOptions.SegmentCacheSize,
		NoCopy:           true,
		DirPerms:         0o750,
		FilePerms:        0o640,
	}
	if cfg.segmentRecords > 0 {
		// One byte of uvarint length per 100 B value: a segment changes once its
		// bytes reach SegmentSize, so after exactly segmentRecords entries.
		opts.SegmentSize = cfg.segmentRecords * (valueSize + 1)
	}
	l, err := wal.Open(dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return &tidwallStore{log: l, dir: dir, next: 1}, ""
}

func (s *tidwallStore) prepare(values [][]byte) any { return values }

func (s *tidwallStore) append(batch any) error {
	values := batch.([][]byte)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(values) == 1 {
		if err := s.log.Write(s.next, values[0]); err != nil {
			return err
		}
		s.next++
		return nil
	}
	s.batch.Clear()
	for i, v := range values {
		s.batch.Write(s.next+uint64(i), v)
	}
	if err := s.log.WriteBatch(&s.batch); err != nil {
		return err
	}
	s.next += uint64(len(values))
	return nil
}

func (s *tidwallStore) close() error { return s.log.Close() }

func (s *tidwallStore) readAll(n int) (int64, error) {
	var valueBytes int64
	for i := range uint64(n) {
		data, err := s.log.Read(i + 1)
		if err != nil {
			return valueBytes, err
		}
		valueBytes += int64(len(data))
	}
	return valueBytes, nil
}

func (s *tidwallStore) get(i int64) ([]byte, error) { return s.log.Read(uint64(i) + 1) }

func (s *tidwallStore) segments() int { return countFiles(s.dir, "0*") }
